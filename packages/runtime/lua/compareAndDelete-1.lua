--[[
  Delete a key only while it still holds the caller's value: the release of a token-held key (a consumer-name
  heartbeat, a symbol lock), so a holder never deletes what another holder took after its TTL ran out.

  Input:
    KEYS[1] key                      e.g. quantum:service:<service>:consumer:<name>, quantum:apply:lock:<SYMBOL>

    ARGV[1] value                    the caller's value (instance id, lock token)

  Output: 1 deleted | 0 not held by this value (expired or taken by another holder; nothing written)
]]
local key = KEYS[1]
local value = ARGV[1]

if redis.call("GET", key) ~= value then
  return 0
end
redis.call("DEL", key)
return 1
