--[[
  Delete a consumer-name heartbeat only while it still holds the caller's instance id.

  Input:
    KEYS[1] heartbeat key            quantum:service:<service>:consumer:<name>   (string)

    ARGV[1] instanceId               the caller's instance id

  Output: 1 deleted | 0 not ours (expired or taken by another instance; nothing written)
]]
local heartbeatKey = KEYS[1]
local instanceId = ARGV[1]

if redis.call("GET", heartbeatKey) ~= instanceId then
  return 0
end
redis.call("DEL", heartbeatKey)
return 1
