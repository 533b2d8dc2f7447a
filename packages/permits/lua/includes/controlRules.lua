-- Shared control-key rules, included by consumePermits-6.lua, claimExecution-4.lua and beginSubmit-5.lua
-- (the loader replaces the script's `-- @include "controlRules.lua"` line with this file).
-- Twins of killSwitchHalts() and tradingStateHalts() in src/kill-switch.ts, tested on one shared table.

-- Kill switch rule: true|1|yes|on and any unknown value halt; false|0|no|off arm;
-- a missing key halts only when missingHalts is true (production).
local function killSwitchHalts(value, missingHalts)
  if not value then
    return missingHalts
  end
  local v = string.lower(string.match(value, "^%s*(.-)%s*$"))
  if v == "false" or v == "0" or v == "no" or v == "off" then
    return false
  end
  return true
end

-- Trading state: missing, ACTIVE and REDUCE_ONLY pass; HALTED and any unknown value halt (fail closed).
local function tradingStateHalts(value)
  if not value then
    return false
  end
  local v = string.upper(string.match(value, "^%s*(.-)%s*$"))
  return not (v == "ACTIVE" or v == "REDUCE_ONLY")
end
