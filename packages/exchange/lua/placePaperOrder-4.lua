--[[
  Place one paper order, atomically and idempotently by client order id.

  The caller computes the fill with decimal arithmetic from the position it read; this script only
  applies it if that position (amount and mark price) is still what the caller read (compare-and-set),
  so concurrent orders never fill against a stale position and a client order id never fills twice.

  KEYS[1] orderKey      hash    quantum:paper:order:<clientOrderId>
  KEYS[2] positionKey   hash    quantum:paper:position:<SYMBOL> (position_amt, entry_price, mark_price)
  KEYS[3] seqKey        string  quantum:paper:order_seq (INCR gives the order id)
  KEYS[4] ordersStream  stream  quantum:paper:orders (one entry per fill)

  ARGV[1] expectedAmt   string  position_amt as read ("" = field absent)
  ARGV[2] expectedMark  string  mark_price as read ("" = field absent)
  ARGV[3] fill          "1" fill now (update position, XADD the fill) | "0" store the order only
  ARGV[4] newAmt        string  position_amt after the fill (fill = 1)
  ARGV[5] newEntry      string  entry_price after the fill (fill = 1)
  ARGV[6] maxLen        integer approximate MAXLEN of the stream
  ARGV[7] orderTtlSec   integer TTL of the order hash in seconds (0 = keep)
  ARGV[8] nOrderPairs   integer number of field/value pairs for the order hash that follow
  ARGV[9..]             order hash field/value pairs, then stream field/value pairs (fill = 1)

  Returns {1, orderId} placed | {2, 0} client order id already used | {3, 0} position changed since read
]]
local orderKey = KEYS[1]
local positionKey = KEYS[2]
local seqKey = KEYS[3]
local ordersStream = KEYS[4]

-- reads and checks
if redis.call("EXISTS", orderKey) == 1 then
  return {2, 0}
end
local fill = ARGV[3] == "1"
if fill then
  local current = redis.call("HMGET", positionKey, "position_amt", "mark_price")
  local amt = current[1] or ""
  local mark = current[2] or ""
  if amt ~= ARGV[1] or mark ~= ARGV[2] then
    return {3, 0}
  end
end

-- writes
local orderId = redis.call("INCR", seqKey)
local nOrderPairs = tonumber(ARGV[8])
local orderFields = {"order_id", tostring(orderId)}
for i = 9, 8 + 2 * nOrderPairs do
  orderFields[#orderFields + 1] = ARGV[i]
end
redis.call("HSET", orderKey, unpack(orderFields))
local ttl = tonumber(ARGV[7])
if ttl > 0 then
  redis.call("EXPIRE", orderKey, ttl)
end
if fill then
  redis.call("HSET", positionKey, "position_amt", ARGV[4], "entry_price", ARGV[5])
  local streamFields = {"order_id", tostring(orderId)}
  for i = 9 + 2 * nOrderPairs, #ARGV do
    streamFields[#streamFields + 1] = ARGV[i]
  end
  redis.call("XADD", ordersStream, "MAXLEN", "~", ARGV[6], "*", unpack(streamFields))
end
return {1, orderId}
