--[[
  Take or refresh a lock held by a token (one Apply Layer plan in flight per symbol across instances).

  Input:
    KEYS[1] lock key                 quantum:apply:lock:<SYMBOL>                (string: the holder's token)

    ARGV[1] token                    this holder's token, e.g. "<consumer>:<boot id>:<n>"
    ARGV[2] ttlMs                    lock TTL in milliseconds (integer > 0)
    ARGV[3] takeoverPrefix           "" = none; else a lock whose token starts with it and NOT with ARGV[4]
                                     is a leftover of an earlier run of this same instance and is taken over
    ARGV[4] selfPrefix               prefix of the tokens of this run

  Output: { code, pttl }
    code "acquired"   lock set to the token (free, already ours: refreshed, or taken over)
         "busy"       held by another token; pttl = its remaining TTL in ms
]]
local lockKey = KEYS[1]

local token = ARGV[1]
local ttlMs = tonumber(ARGV[2])
local takeoverPrefix = ARGV[3]
local selfPrefix = ARGV[4]

local function startsWith(s, prefix)
  return prefix ~= "" and string.sub(s, 1, #prefix) == prefix
end

local current = redis.call("GET", lockKey)
local free = not current
  or current == token
  or (startsWith(current, takeoverPrefix) and not startsWith(current, selfPrefix))
if not free then
  return { "busy", redis.call("PTTL", lockKey) }
end

redis.call("SET", lockKey, token, "PX", ttlMs)
return { "acquired", ttlMs }
