--[[
  Write the permits of one batch of apply.plan entries and acknowledge the batch's entries, in one command.

  Each permit is written with SET NX EX: a permit that exists already (a redelivered plan) is never changed.
  The entries are acknowledged only after every SET of the call has succeeded: a SET that fails raises an
  error, which ends the script before the XACK, so the entries stay pending and are read again (their permits
  written then, or found there). A crash between the SETs and the XACK cannot happen inside one script; a
  crash before the script leaves everything pending.

  Input (the number of keys is variable: 1 + number of permits):
    KEYS[1]      stream        quantum:stream:apply.plan
    KEYS[2..]    permit keys   quantum:permit:p33:<plan_id>, one per permit

    ARGV[1]      group         the consumer group whose pending entries are acknowledged
    ARGV[2]      ttlSec        permit TTL (seconds)
    ARGV[3 .. 2+p]             the permit values, in KEYS[2..] order (p = #KEYS - 1)
    ARGV[3+p ..]               entry ids to acknowledge (those of the permits and any others the caller
                               is done with)

  Output: { written... }  one number per permit, in KEYS[2..] order: 1 written, 0 it existed already
]]
local stream = KEYS[1]
local group = ARGV[1]
local ttl = ARGV[2]
local permits = #KEYS - 1
if stream == nil or group == nil or ttl == nil or #ARGV < 2 + permits then
  return redis.error_reply("ERR writePermits: stream, group, ttl and one value per permit are required")
end

local written = {}
for i = 1, permits do
  written[i] = redis.call("SET", KEYS[i + 1], ARGV[i + 2], "EX", ttl, "NX") and 1 or 0
end

-- unpack() is bounded by Lua's stack: acknowledge in chunks.
local CHUNK = 1000
local first = 3 + permits
for c = first, #ARGV, CHUNK do
  redis.call("XACK", stream, group, unpack(ARGV, c, math.min(c + CHUNK - 1, #ARGV)))
end
return written
