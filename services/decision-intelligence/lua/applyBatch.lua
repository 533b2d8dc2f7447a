--[[
  Count one batch of normalized apply.result entries into the P3.5 minute buckets, exactly once, and
  acknowledge it - in one atomic step.

  Why the XACK lives here: the consumer group's pending list IS the idempotency marker. An entry is counted
  only if it is still pending in the group, and the same script that counts it acknowledges it. A crash (even
  SIGKILL) before the script leaves every entry pending, so it is redelivered and counted then; a crash after
  it leaves nothing pending, so nothing is redelivered. Two consumers holding the same entry (the janitor
  claimed it from a slow one) cannot both count it: the second finds it no longer pending and skips it. A
  last-id watermark cannot do this: with several instances, or with older entries reclaimed from a dead
  consumer, ids are not applied in order, and a watermark would drop them.

  The caller aggregates the batch's increments (per bucket and field) beforehand; the script first checks that
  EVERY id of the batch is still pending. All pending (the normal case): apply the increments, update the
  status, XACK. None pending (a redelivery of a batch counted before): write nothing. Some pending (a batch
  split differently than before, or raced by another instance): write nothing and return the positions that
  are no longer pending, so the caller re-aggregates the rest and calls again.

  Input (the number of keys is variable: 3 + number of distinct buckets):
    KEYS[1]     stream            quantum:stream:apply.result
    KEYS[2]     status            quantum:p35:status (hash)
    KEYS[3]     unknownTop        quantum:p35:unknown_decision:top:5m (zset)
    KEYS[4..]   bucket keys       quantum:p35:bucket:<YYYYMMDDHHMM> (hash), distinct

    ARGV[1]     group             consumer group name
    ARGV[2]     bucketTtlSec      TTL of every touched bucket (seconds)
    ARGV[3]     unknownTtlSec     TTL of the unknown-decision zset (seconds)
    ARGV[4]     nowSec            processing time, epoch seconds (written as last_ts)
    ARGV[5]     maxId             the greatest id of the batch (last_id moves to it unless already beyond)
    ARGV[6]     n                 number of entry ids that follow
    ARGV[7 .. 6+n]                the entry ids
    then        d                 number of bucket increments that follow, then d triples:
                                    bucket (1-based index among KEYS[4..]), field, increment
    then        u                 number of unknown-decision increments that follow, then u pairs: member, increment

  Output:
    { "ok", n }                          all counted and acknowledged
    { "ok", 0, positions 1..n }          none pending any more (counted before); nothing written
    { "partial", positions... }          the listed positions (1-based) are no longer pending; nothing written
    { "wrongtype", key }                 a key has a foreign type; nothing written

  All reads and checks come first, writes last.
]]
local streamKey = KEYS[1]
local statusKey = KEYS[2]
local unknownKey = KEYS[3]
local firstBucket = 4

local group = ARGV[1]
local bucketTtl = ARGV[2]
local unknownTtl = ARGV[3]
local nowSec = ARGV[4]
local maxId = ARGV[5]
local n = tonumber(ARGV[6])
local firstIdArg = 7
local CHUNK = 500

-- Checks ----------------------------------------------------------------------------------------------------
local function expectType(key, wanted)
  local t = redis.call("TYPE", key)
  t = t.ok or t
  return t == "none" or t == wanted
end
if not expectType(statusKey, "hash") then return { "wrongtype", statusKey } end
if not expectType(unknownKey, "zset") then return { "wrongtype", unknownKey } end
for k = firstBucket, #KEYS do
  if not expectType(KEYS[k], "hash") then return { "wrongtype", KEYS[k] } end
end

local gone = {}
for i = 1, n do
  local id = ARGV[firstIdArg + i - 1]
  if #redis.call("XPENDING", streamKey, group, id, id, 1) == 0 then gone[#gone + 1] = i end
end
if #gone == n then
  local result = { "ok", 0 }
  for _, pos in ipairs(gone) do result[#result + 1] = pos end
  return result
end
if #gone > 0 then
  local result = { "partial" }
  for _, pos in ipairs(gone) do result[#result + 1] = pos end
  return result
end

local function parseId(id)
  local ms, seq = string.match(id, "^(%d+)-(%d+)$")
  return tonumber(ms), tonumber(seq)
end
local function idGreater(a, b)
  if not b then return true end
  local am, as = parseId(a)
  local bm, bs = parseId(b)
  if bm == nil then return true end
  if am ~= bm then return am > bm end
  return as > bs
end
local lastId = redis.call("HGET", statusKey, "last_id")

-- Writes ----------------------------------------------------------------------------------------------------
local a = firstIdArg + n
local d = tonumber(ARGV[a])
a = a + 1
local touched = {}
for _ = 1, d do
  local key = KEYS[firstBucket - 1 + tonumber(ARGV[a])]
  redis.call("HINCRBY", key, ARGV[a + 1], ARGV[a + 2])
  touched[key] = true
  a = a + 3
end
for key in pairs(touched) do redis.call("EXPIRE", key, bucketTtl) end

local u = tonumber(ARGV[a])
a = a + 1
for _ = 1, u do
  redis.call("ZINCRBY", unknownKey, ARGV[a + 1], ARGV[a])
  a = a + 2
end
if u > 0 then redis.call("EXPIRE", unknownKey, unknownTtl) end

redis.call("HINCRBY", statusKey, "processed_total", n)
if idGreater(maxId, lastId) then redis.call("HSET", statusKey, "last_id", maxId) end
redis.call("HSET", statusKey, "last_ts", nowSec)

for c = firstIdArg, firstIdArg + n - 1, CHUNK do
  redis.call("XACK", streamKey, group, unpack(ARGV, c, math.min(c + CHUNK - 1, firstIdArg + n - 1)))
end
return { "ok", n }
