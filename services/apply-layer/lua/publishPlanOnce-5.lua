--[[
  Publish a plan to apply.plan exactly once per plan_id, optionally with its result.

  Input:
    KEYS[1] plan marker              quantum:apply:plan_published:<plan_id>     (string)
    KEYS[2] result marker            quantum:apply:result_published:<plan_id>   (string)
    KEYS[3] plan stream              quantum:stream:apply.plan                  (stream)
    KEYS[4] result stream            quantum:stream:apply.result                (stream)
    KEYS[5] open plans               quantum:apply:open_plans                   (hash plan_id -> plan JSON)

    ARGV[1] planId
    ARGV[2] dedupeTtlSec             TTL of both markers, seconds (integer > 0)
    ARGV[3] maxLen                   approximate MAXLEN of both streams (integer > 0)
    ARGV[4] openPlanJson             "" = do not register; else the plan is recorded in KEYS[5] until its result
    ARGV[5] nPlanPairs               number of field/value pairs of the plan entry that follow
    ARGV[6] nResultPairs             number of field/value pairs of the result entry (0 = plan only)
    ARGV[7..]                        plan pairs, then result pairs

  Output: { code, planEntryId|false, resultEntryId|false }
    code "duplicate"   the plan marker exists: nothing written
         "published"   plan written (and the result, unless its marker already existed)

  All checks run before any write.
]]
local planMarkerKey = KEYS[1]
local resultMarkerKey = KEYS[2]
local planStream = KEYS[3]
local resultStream = KEYS[4]
local openPlansKey = KEYS[5]

local planId = ARGV[1]
local ttl = tonumber(ARGV[2])
local maxLen = ARGV[3]
local openPlanJson = ARGV[4]
local nPlanPairs = tonumber(ARGV[5])
local nResultPairs = tonumber(ARGV[6])

if #ARGV ~= 6 + 2 * (nPlanPairs + nResultPairs) then
  return redis.error_reply("ERR publishPlanOnce: field/value pair counts do not match the arguments")
end

if redis.call("EXISTS", planMarkerKey) == 1 then
  return { "duplicate", false, false }
end
local withResult = nResultPairs > 0 and redis.call("EXISTS", resultMarkerKey) == 0

-- Writes
local planFields = {}
for i = 7, 6 + 2 * nPlanPairs do
  planFields[#planFields + 1] = ARGV[i]
end
redis.call("SET", planMarkerKey, "1", "EX", ttl)
local planEntryId = redis.call("XADD", planStream, "MAXLEN", "~", maxLen, "*", unpack(planFields))

local resultEntryId = false
if withResult then
  local resultFields = {}
  for i = 7 + 2 * nPlanPairs, #ARGV do
    resultFields[#resultFields + 1] = ARGV[i]
  end
  redis.call("SET", resultMarkerKey, "1", "EX", ttl)
  resultEntryId = redis.call("XADD", resultStream, "MAXLEN", "~", maxLen, "*", unpack(resultFields))
elseif openPlanJson ~= "" then
  redis.call("HSET", openPlansKey, planId, openPlanJson)
end
return { "published", planEntryId, resultEntryId }
