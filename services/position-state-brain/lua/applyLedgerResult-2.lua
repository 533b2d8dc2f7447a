--[[
  Apply one executed apply.result to a symbol's position ledger, exactly once per result stream id, as a
  compare-and-set on last_known_amt (the new amount is computed by the caller with decimal arithmetic).

  Input:
    KEYS[1] ledger key                 quantum:position:ledger:<SYMBOL>      (hash)
    KEYS[2] applied result ids         quantum:p33:ledger:applied:<SYMBOL>   (zset: stream id -> its ms time)

    ARGV[1] resultId                   apply.result stream id "<ms>-<seq>"
    ARGV[2] expectedAmt                last_known_amt the caller read ("" = the field was absent)
    ARGV[3] keepApplied                how many applied ids to remember (integer)
    ARGV[4..] field, value, ...        ledger fields to write (last_known_amt, last_result_id, ...)

  Output: code
     1  applied: fields written, resultId remembered
     0  already applied (resultId remembered, or no memory and resultId <= last_result_id): nothing written
    -1  last_known_amt changed since the caller read it: nothing written, read again and retry

  All reads and checks come first, writes last.
]]
local ledgerKey = KEYS[1]
local appliedKey = KEYS[2]

local resultId = ARGV[1]
local expectedAmt = ARGV[2]
local keepApplied = tonumber(ARGV[3])

if #ARGV < 5 or (#ARGV - 3) % 2 ~= 0 then
  return redis.error_reply("ERR applyLedgerResult: field/value arguments must come in pairs")
end

local function parseId(id)
  local ms, seq = string.match(id or "", "^(%d+)-(%d+)$")
  if not ms then
    return nil
  end
  return { tonumber(ms), tonumber(seq) }
end

local rid = parseId(resultId)
if not rid then
  return redis.error_reply("ERR applyLedgerResult: resultId is not a stream id")
end

if redis.call("ZSCORE", appliedKey, resultId) then
  return 0
end
if redis.call("EXISTS", appliedKey) == 0 then
  local last = parseId(redis.call("HGET", ledgerKey, "last_result_id"))
  if last and (rid[1] < last[1] or (rid[1] == last[1] and rid[2] <= last[2])) then
    return 0
  end
end

local current = redis.call("HGET", ledgerKey, "last_known_amt") or ""
if current ~= expectedAmt then
  return -1
end

-- last_result_id keeps the highest id applied so far (results may be applied out of order).
local fields = {}
for i = 4, #ARGV, 2 do
  local name, value = ARGV[i], ARGV[i + 1]
  if name == "last_result_id" then
    local last = parseId(redis.call("HGET", ledgerKey, "last_result_id"))
    if last and (rid[1] < last[1] or (rid[1] == last[1] and rid[2] < last[2])) then
      value = nil
    end
  end
  if value then
    table.insert(fields, name)
    table.insert(fields, value)
  end
end

redis.call("HSET", ledgerKey, unpack(fields))
redis.call("ZADD", appliedKey, rid[1], resultId)
redis.call("ZREMRANGEBYRANK", appliedKey, 0, -(keepApplied + 1))
return 1
