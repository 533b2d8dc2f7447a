--[[
  Publish the one result of a plan to apply.result (exactly one result per plan_id).

  Input:
    KEYS[1] result marker            quantum:apply:result_published:<plan_id>   (string)
    KEYS[2] result stream            quantum:stream:apply.result                (stream)
    KEYS[3] execution record         quantum:apply:exec:<plan_id>               (hash)
    KEYS[4] open plans               quantum:apply:open_plans                   (hash plan_id -> plan JSON)
    KEYS[5] open execution index     quantum:apply:exec:open                    (zset plan_id -> epoch ms)

    ARGV[1] planId
    ARGV[2] symbol
    ARGV[3] dedupeTtlSec             TTL of the result marker, seconds (integer > 0)
    ARGV[4] maxLen                   approximate MAXLEN of the stream (integer > 0)
    ARGV[5] claim                    "owned"     the caller holds the execution record (or there is none to hold):
                                                 the record, when it exists, gets result_published=1
                                     "unclaimed" the plan ended before any claim: publish only when no execution
                                                 record exists, and create one (state DONE, result_published=1) so
                                                 no later consume can execute the plan
    ARGV[6] execRecordTtlSec         TTL of a record created by "unclaimed", seconds (integer > 0)
    ARGV[7] now                      epoch milliseconds (integer string)
    ARGV[8..]                        result field/value pairs

  Output: { code, resultEntryId|false }
    code "duplicate"   a result of this plan was already published: nothing written but the open-plan and
                       open-execution cleanup
         "claimed"     ("unclaimed" only) an execution record exists: nothing written
         "published"   result written, marker set, open plan and open execution entry removed

  Reads and checks before the writes.
]]
local resultMarkerKey = KEYS[1]
local resultStream = KEYS[2]
local execRecordKey = KEYS[3]
local openPlansKey = KEYS[4]
local execOpenKey = KEYS[5]

local planId = ARGV[1]
local symbol = ARGV[2]
local ttl = tonumber(ARGV[3])
local maxLen = ARGV[4]
local claim = ARGV[5]
local execRecordTtlSec = tonumber(ARGV[6])
local nowMs = tonumber(ARGV[7])

if (#ARGV - 7) % 2 ~= 0 or #ARGV < 9 then
  return redis.error_reply("ERR publishResultOnce: result fields must come in field/value pairs")
end
if claim ~= "owned" and claim ~= "unclaimed" then
  return redis.error_reply("ERR publishResultOnce: claim must be owned or unclaimed")
end

local markerExists = redis.call("EXISTS", resultMarkerKey) == 1
local recordExists = redis.call("EXISTS", execRecordKey) == 1
if markerExists then
  redis.call("HDEL", openPlansKey, planId)
  redis.call("ZREM", execOpenKey, planId)
  return { "duplicate", false }
end
if claim == "unclaimed" and recordExists then
  return { "claimed", false }
end

-- Writes
local fields = {}
for i = 8, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
redis.call("SET", resultMarkerKey, "1", "EX", ttl)
local entryId = redis.call("XADD", resultStream, "MAXLEN", "~", maxLen, "*", unpack(fields))
local nowSec = string.format("%.3f", nowMs / 1000)
if claim == "unclaimed" then
  redis.call("HSET", execRecordKey,
    "state", "DONE",
    "plan_id", planId,
    "symbol", symbol,
    "created_at", nowSec,
    "updated_at", nowSec,
    "result_published", "1")
  redis.call("EXPIRE", execRecordKey, execRecordTtlSec)
elseif recordExists then
  redis.call("HSET", execRecordKey, "result_published", "1", "updated_at", nowSec)
end
redis.call("HDEL", openPlansKey, planId)
redis.call("ZREM", execOpenKey, planId)
return { "published", entryId }
