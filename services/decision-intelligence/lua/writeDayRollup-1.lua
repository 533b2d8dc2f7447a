--[[
  Write the rollup of one UTC day unless it exists: the first writer wins, every later call (another
  instance, a restart, an operator's on-demand run) changes nothing. The whole rollup is one HSET inside
  the script, so a reader (or a crash of the caller) never sees half of it.

  Input:
    KEYS[1] day key        quantum:p35:day:<YYYYMMDD> (hash)

    ARGV[1] expireAtSec    epoch seconds at which the rollup expires (end of the day + retention)
    ARGV[2..] field, value, field, value, ...   the whole rollup (counts and meta:* fields)

  Output: { "written", fieldCount } | { "exists" } | { "wrongtype" }

  All reads and checks come first, writes last.
]]
local dayKey = KEYS[1]

local expireAtSec = ARGV[1]

if #ARGV < 3 or (#ARGV - 1) % 2 ~= 0 then
  return redis.error_reply("ERR writeDayRollup: field/value arguments must come in pairs")
end

local t = redis.call("TYPE", dayKey)
t = t.ok or t
if t == "hash" then return { "exists" } end
if t ~= "none" then return { "wrongtype" } end

local CHUNK = 1000
for i = 2, #ARGV, CHUNK do
  redis.call("HSET", dayKey, unpack(ARGV, i, math.min(i + CHUNK - 1, #ARGV)))
end
redis.call("EXPIREAT", dayKey, expireAtSec)
return { "written", (#ARGV - 1) / 2 }
