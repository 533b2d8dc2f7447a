--[[
  Initialise a symbol's position ledger from the exchange snapshot, only when it has no last_known_amt.
  An operator's or a result's ledger is never overwritten.

  Input:
    KEYS[1] ledger key                 quantum:position:ledger:<SYMBOL>      (hash)

    ARGV[1..] field, value, field, value, ...   ledger fields to write (must include last_known_amt)

  Output: { code, last_known_amt }
    code 1  the ledger was initialised; last_known_amt = the value written
    code 0  nothing written; last_known_amt = the value already stored
]]
local ledgerKey = KEYS[1]

if #ARGV == 0 or #ARGV % 2 ~= 0 then
  return redis.error_reply("ERR initLedger: field/value arguments must come in pairs")
end

local current = redis.call("HGET", ledgerKey, "last_known_amt")
if current then
  return { 0, current }
end

local written = false
for i = 1, #ARGV, 2 do
  if ARGV[i] == "last_known_amt" then
    written = ARGV[i + 1]
  end
end
if not written then
  return redis.error_reply("ERR initLedger: last_known_amt is required")
end

redis.call("HSET", ledgerKey, unpack(ARGV))
return { 1, written }
