--[[
  Publish one P3.5 alert unless its (reason, severity) pair is cooling down; start the cooldown with it.
  Cooldown and publish are one atomic step: a crash can neither lose the alert after the cooldown was set
  nor publish it twice.

  Input:
    KEYS[1] cooldown key   quantum:p35:alert:cooldown:<reason>:<severity> (string)
    KEYS[2] alert stream   quantum:p35:alerts

    ARGV[1] cooldownSec    cooldown length in seconds (integer >= 1)
    ARGV[2] maxlen         approximate MAXLEN of the alert stream
    ARGV[3] alertId        stored as the cooldown key's value
    ARGV[4..] field, value, field, value, ...   the alert entry

  Output: { "published", entryId } | { "cooldown", ttlSec }

  All reads and checks come first, writes last.
]]
local cooldownKey = KEYS[1]
local alertStream = KEYS[2]

local cooldownSec = ARGV[1]
local maxlen = ARGV[2]
local alertId = ARGV[3]

if (#ARGV - 3) % 2 ~= 0 or #ARGV < 5 then
  return redis.error_reply("ERR raiseAlert: field/value arguments must come in pairs")
end

if redis.call("EXISTS", cooldownKey) == 1 then
  return { "cooldown", redis.call("TTL", cooldownKey) }
end

local fields = {}
for i = 4, #ARGV do
  fields[#fields + 1] = ARGV[i]
end
local entryId = redis.call("XADD", alertStream, "MAXLEN", "~", maxlen, "*", unpack(fields))
redis.call("SET", cooldownKey, alertId, "EX", cooldownSec)
return { "published", entryId }
