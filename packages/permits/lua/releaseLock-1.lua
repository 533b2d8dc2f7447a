--[[
  Release a lock only when it still holds the caller's token.

  Input:
    KEYS[1] lock key                 quantum:apply:lock:<SYMBOL>                (string)

    ARGV[1] token                    the holder's token

  Output: 1 released | 0 not held by this token (expired or taken by another holder; nothing written)
]]
local lockKey = KEYS[1]
local token = ARGV[1]

if redis.call("GET", lockKey) ~= token then
  return 0
end
redis.call("DEL", lockKey)
return 1
