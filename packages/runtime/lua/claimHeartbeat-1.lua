--[[
  Take or renew a consumer-name heartbeat: set it to this instance's id when it is free or already ours.

  Input:
    KEYS[1] heartbeat key            quantum:service:<service>:consumer:<name>   (string: holder's instance id)

    ARGV[1] instanceId               this process's id, unique per process
    ARGV[2] ttlMs                    heartbeat TTL in milliseconds (integer > 0)

  Output: { code, holder, pttl }
    code "ok"     the key now holds instanceId with a fresh TTL; holder = instanceId, pttl = ttlMs
         "held"   another instance holds it; holder = its id, pttl = its remaining TTL in ms (-1: no TTL)
]]
local heartbeatKey = KEYS[1]

local instanceId = ARGV[1]
local ttlMs = tonumber(ARGV[2])

local current = redis.call("GET", heartbeatKey)
if current and current ~= instanceId then
  return { "held", current, redis.call("PTTL", heartbeatKey) }
end

redis.call("SET", heartbeatKey, instanceId, "PX", ttlMs)
return { "ok", instanceId, ttlMs }
