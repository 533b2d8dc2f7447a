--[[
  Cancel one open paper order (status NEW) by client order id.

  KEYS[1] orderKey  hash  quantum:paper:order:<clientOrderId>
  ARGV[1] nowMs     integer epoch ms written to updated_at_ms

  Returns {1, orderId} canceled | {0, ""} no such order | {2, status} order is not open
]]
local orderKey = KEYS[1]

local fields = redis.call("HMGET", orderKey, "status", "order_id")
local status = fields[1]
if status == false then
  return {0, ""}
end
if status ~= "NEW" then
  return {2, status}
end

redis.call("HSET", orderKey, "status", "CANCELED", "updated_at_ms", ARGV[1])
return {1, fields[2]}
