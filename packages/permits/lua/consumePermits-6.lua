--[[
  Consume both permits of a plan atomically.

  Input:
    KEYS[1] Governor permit key      quantum:permit:<plan_id>            (string, JSON)
    KEYS[2] P3.3 permit key          quantum:permit:p33:<plan_id>        (string, JSON)
    KEYS[3] kill switch key          quantum:global:kill_switch          (string)
    KEYS[4] trading state key        quantum:global:trading_state        (string)
    KEYS[5] execution record key     quantum:apply:exec:<plan_id>        (hash)
    KEYS[6] open execution index     quantum:apply:exec:open             (zset plan_id -> epoch ms of the claim)

    ARGV[1] now                      epoch milliseconds (integer string)
    ARGV[2] missingKillSwitchHalts   "1" = a missing kill switch halts (production), "0" = armed
    ARGV[3] execRecordTtlSec         TTL of the execution record, seconds (integer > 0)
    ARGV[4] planId
    ARGV[5] symbol

  Output: { code, govValue|false, p33Value|false, govPttl, p33Pttl }
    code "kill_switch_active"    kill switch halted (nothing written)
         "trading_state_halted"  trading state HALTED or unknown (nothing written)
         "missing_both" | "missing_governor" | "missing_p33"   (nothing written, permits untouched)
         "already_executed"      the execution record exists (nothing written)
         "ok"                    both permits deleted, record created with state CLAIMED and listed in
                                 the open execution index
    govValue / p33Value: the permit values when code is "ok", else false
    govPttl / p33Pttl:   PTTL of each permit read before any write (-2 missing, -1 no expiry)

  All checks run before any write (Redis has no rollback).
]]
local govPermitKey = KEYS[1]
local p33PermitKey = KEYS[2]
local killSwitchKey = KEYS[3]
local tradingStateKey = KEYS[4]
local execRecordKey = KEYS[5]
local execOpenKey = KEYS[6]

local nowMs = tonumber(ARGV[1])
local missingKillSwitchHalts = ARGV[2] == "1"
local execRecordTtlSec = tonumber(ARGV[3])
local planId = ARGV[4]
local symbol = ARGV[5]

-- @include "controlRules.lua"
-- @include "claimRecord.lua"

local govPttl = redis.call("PTTL", govPermitKey)
local p33Pttl = redis.call("PTTL", p33PermitKey)

if killSwitchHalts(redis.call("GET", killSwitchKey), missingKillSwitchHalts) then
  return { "kill_switch_active", false, false, govPttl, p33Pttl }
end

if tradingStateHalts(redis.call("GET", tradingStateKey)) then
  return { "trading_state_halted", false, false, govPttl, p33Pttl }
end

local govValue = redis.call("GET", govPermitKey)
local p33Value = redis.call("GET", p33PermitKey)
if not govValue and not p33Value then
  return { "missing_both", false, false, govPttl, p33Pttl }
elseif not govValue then
  return { "missing_governor", false, false, govPttl, p33Pttl }
elseif not p33Value then
  return { "missing_p33", false, false, govPttl, p33Pttl }
end

if redis.call("EXISTS", execRecordKey) == 1 then
  return { "already_executed", false, false, govPttl, p33Pttl }
end

-- Writes: consume both permits, claim the execution.
redis.call("DEL", govPermitKey, p33PermitKey)
claimRecord(execRecordKey, execOpenKey, nowMs, execRecordTtlSec, planId, symbol)
return { "ok", govValue, p33Value, govPttl, p33Pttl }
