--[[
  Claim the execution of a plan without permits: the TESTNET bypass path (never in production).
  Same kill switch, trading state and execution-record rules as consumePermits-6.lua.

  Input:
    KEYS[1] kill switch key          quantum:global:kill_switch          (string)
    KEYS[2] trading state key        quantum:global:trading_state        (string)
    KEYS[3] execution record key     quantum:apply:exec:<plan_id>        (hash)
    KEYS[4] open execution index     quantum:apply:exec:open             (zset plan_id -> epoch ms of the claim)

    ARGV[1] now                      epoch milliseconds (integer string)
    ARGV[2] missingKillSwitchHalts   "1" = a missing kill switch halts (production), "0" = armed
    ARGV[3] execRecordTtlSec         TTL of the execution record, seconds (integer > 0)
    ARGV[4] planId
    ARGV[5] symbol

  Output: { code }
    code "kill_switch_active"    kill switch halted (nothing written)
         "trading_state_halted"  trading state HALTED or unknown (nothing written)
         "already_executed"      the execution record exists (nothing written)
         "ok"                    record created with state CLAIMED, listed in the open execution index

  All checks run before any write.
]]
local killSwitchKey = KEYS[1]
local tradingStateKey = KEYS[2]
local execRecordKey = KEYS[3]
local execOpenKey = KEYS[4]

local nowMs = tonumber(ARGV[1])
local missingKillSwitchHalts = ARGV[2] == "1"
local execRecordTtlSec = tonumber(ARGV[3])
local planId = ARGV[4]
local symbol = ARGV[5]

-- @include "controlRules.lua"
-- @include "claimRecord.lua"

if killSwitchHalts(redis.call("GET", killSwitchKey), missingKillSwitchHalts) then
  return { "kill_switch_active" }
end

if tradingStateHalts(redis.call("GET", tradingStateKey)) then
  return { "trading_state_halted" }
end

if redis.call("EXISTS", execRecordKey) == 1 then
  return { "already_executed" }
end

claimRecord(execRecordKey, execOpenKey, nowMs, execRecordTtlSec, planId, symbol)
return { "ok" }
