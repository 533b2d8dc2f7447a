--[[
  The gate every order request passes, run as the last step before the request: move the execution record to
  SUBMITTING only while the kill switch and the trading state allow it and the caller still holds the symbol
  lock, in one step. An order is sent only after this returns "ok", so once the kill switch SET has returned
  no new request can start; requests that passed the gate earlier are listed in the in-flight ZSET, which
  `quantumctl kill on` waits on before it returns (zero orders after kill on).

  Input:
    KEYS[1] execution record key     quantum:apply:exec:<plan_id>        (hash)
    KEYS[2] kill switch key          quantum:global:kill_switch          (string)
    KEYS[3] trading state key        quantum:global:trading_state        (string)
    KEYS[4] in-flight orders         quantum:apply:submitting            (zset plan_id -> epoch ms)
    KEYS[5] symbol lock key          quantum:apply:lock:<SYMBOL>         (string: the holder's token)

    ARGV[1] now                      epoch milliseconds (integer string)
    ARGV[2] missingKillSwitchHalts   "1" = a missing kill switch halts (production), "0" = armed
    ARGV[3] planId
    ARGV[4] expectedStates           comma list of states the record may be in, e.g. "CLAIMED" or "CLAIMED,SUBMITTING"
    ARGV[5] lockToken                the caller's symbol-lock token; "" = no lock check
    ARGV[6..] field, value, ...      extra hash fields written with the new state (client id, side, qty, ...)

  Output: { code, state|false }
    code "ok"                    record now SUBMITTING, plan in the in-flight ZSET; state = the previous state
         "kill_switch_active"    nothing written
         "trading_state_halted"  nothing written
         "lock_lost"             the symbol lock is not held by lockToken; nothing written
         "state_mismatch"        the record is not in an expected state; nothing written; state = its state
         "missing"               no record; nothing written

  All checks run before any write. In-flight entries older than one hour are trimmed here.
]]
local execRecordKey = KEYS[1]
local killSwitchKey = KEYS[2]
local tradingStateKey = KEYS[3]
local submittingKey = KEYS[4]
local symbolLockKey = KEYS[5]

local nowMs = tonumber(ARGV[1])
local missingKillSwitchHalts = ARGV[2] == "1"
local planId = ARGV[3]
local expectedStates = ARGV[4]
local lockToken = ARGV[5]

if (#ARGV - 5) % 2 ~= 0 then
  return redis.error_reply("ERR beginSubmit: field/value arguments must come in pairs")
end

-- @include "controlRules.lua"
-- @include "stateIn.lua"

if killSwitchHalts(redis.call("GET", killSwitchKey), missingKillSwitchHalts) then
  return { "kill_switch_active", false }
end
if tradingStateHalts(redis.call("GET", tradingStateKey)) then
  return { "trading_state_halted", false }
end
if lockToken ~= "" and redis.call("GET", symbolLockKey) ~= lockToken then
  return { "lock_lost", false }
end
if redis.call("EXISTS", execRecordKey) == 0 then
  return { "missing", false }
end
local current = redis.call("HGET", execRecordKey, "state")
if not stateIn(current, expectedStates) then
  return { "state_mismatch", current or false }
end

local fields = { "state", "SUBMITTING", "updated_at", string.format("%.3f", nowMs / 1000) }
for i = 6, #ARGV, 2 do
  fields[#fields + 1] = ARGV[i]
  fields[#fields + 1] = ARGV[i + 1]
end
redis.call("HSET", execRecordKey, unpack(fields))
redis.call("ZADD", submittingKey, nowMs, planId)
redis.call("ZREMRANGEBYSCORE", submittingKey, "-inf", nowMs - 3600000)
return { "ok", current }
