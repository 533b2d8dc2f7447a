--[[
  Read what P3.3 needs to evaluate one batch of plans, for every symbol of the batch, in one command: the
  exchange snapshot, the ledger's amount and basis, the cooldown and the reconcile hold. One command instead
  of four per symbol keeps a burst of plans (every symbol closing at once) to one round trip and one reply.
  Nothing is written.

  Input (the number of keys is variable: 4 per symbol, in this order for each symbol):
    KEYS[4i+1]  snapshot   quantum:position:snapshot:<SYMBOL>   (hash)
    KEYS[4i+2]  ledger     quantum:position:ledger:<SYMBOL>     (hash)
    KEYS[4i+3]  cooldown   quantum:cooldown:last_exec_ts:<SYMBOL> (string)
    KEYS[4i+4]  hold       quantum:reconcile:hold:<SYMBOL>      (string)

  Output: one entry per symbol, in KEYS order:
    { snapshot fields as field, value, ...,  ledger last_known_amt | nil,  ledger last_result_plan_id | nil,
      cooldown | nil,  hold | nil }
  A missing key reads as nil (an empty snapshot list); a key of another type fails the whole call (WRONGTYPE),
  as the separate reads would.
]]
if #KEYS % 4 ~= 0 then
  return redis.error_reply("ERR readPermitState: keys must come in fours (snapshot, ledger, cooldown, hold)")
end

local out = {}
for i = 1, #KEYS, 4 do
  local ledger = redis.call("HMGET", KEYS[i + 1], "last_known_amt", "last_result_plan_id")
  out[#out + 1] = {
    redis.call("HGETALL", KEYS[i]),
    ledger[1],
    ledger[2],
    redis.call("GET", KEYS[i + 2]),
    redis.call("GET", KEYS[i + 3]),
  }
end
return out
