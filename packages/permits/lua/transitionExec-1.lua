--[[
  Compare-and-set of an execution record's state (CLAIMED -> SUBMITTING -> FILLED|REJECTED|UNKNOWN).

  Input:
    KEYS[1] execution record key     quantum:apply:exec:<plan_id>        (hash)

    ARGV[1] expectedStates           comma list of states the record must be in, e.g. "CLAIMED" or "SUBMITTING,UNKNOWN"
    ARGV[2] newState
    ARGV[3] now                      epoch milliseconds (integer string); written as updated_at in seconds
    ARGV[4..] field, value, field, value, ...   extra hash fields to set (plain strings)

  Output: { code, state|false }
    code "ok"              state moved to newState, fields and updated_at written; state = the previous state
         "state_mismatch"  nothing written; state = the current state
         "missing"         the record does not exist; nothing written

  The TTL of the record is kept. All checks run before any write.
]]
local execRecordKey = KEYS[1]

local expectedStates = ARGV[1]
local newState = ARGV[2]
local nowMs = tonumber(ARGV[3])

if (#ARGV - 3) % 2 ~= 0 then
  return redis.error_reply("ERR transitionExec: field/value arguments must come in pairs")
end

-- @include "stateIn.lua"

if redis.call("EXISTS", execRecordKey) == 0 then
  return { "missing", false }
end

local current = redis.call("HGET", execRecordKey, "state")
if not stateIn(current, expectedStates) then
  return { "state_mismatch", current or false }
end

local fields = {}
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
fields[#fields + 1] = "state"
fields[#fields + 1] = newState
fields[#fields + 1] = "updated_at"
fields[#fields + 1] = string.format("%.3f", nowMs / 1000)
redis.call("HSET", execRecordKey, unpack(fields))
return { "ok", current }
