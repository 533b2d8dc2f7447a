--[[
  Record a change of a control key (kill switch, trading state) that no quantumctl command made.
  quantumctl writes the value it sets into the last-seen hash in the same MULTI as the change, so a live
  value that differs from the last-seen one was written by something else (a raw redis-cli SET). The
  change is recorded once: the audit entry, the last-seen value and the key's by/at are written in this one
  script, so several Apply Layer instances calling it at once record it exactly once. The reason key is
  left as it is and copied into the entry (the raw MSET of the runbook writes one with the change).

  Input:
    KEYS[1] watched key        quantum:global:kill_switch | quantum:global:trading_state   (string)
    KEYS[2] last-seen hash     quantum:audit:last_seen                                     (hash)
    KEYS[3] audit stream       quantum:audit                                               (stream)
    KEYS[4] by key             <watched key>:by                                            (string)
    KEYS[5] at key             <watched key>:at                                            (string)
    KEYS[6] reason key         <watched key>:reason (read only)                            (string)

    ARGV[1] last-seen field    the watched key's name (field of the last-seen hash)
    ARGV[2] now                epoch seconds (decimal text), written as ts and to the at key
    ARGV[3] maxlen             approximate MAXLEN of the audit stream
    ARGV[4] actor              the actor to record (external)
    ARGV[5] command            the command to record (external set)
    ARGV[6] args               JSON list naming the watched key

  Output:
    0   nothing changed since the last recorded change
    1   a change was recorded
]]
local watchedKey = KEYS[1]
local lastSeenKey = KEYS[2]
local auditKey = KEYS[3]
local byKey = KEYS[4]
local atKey = KEYS[5]
local reasonKey = KEYS[6]

local field = ARGV[1]
local now = ARGV[2]

local current = redis.call("GET", watchedKey)
local seen = redis.call("HGET", lastSeenKey, field)
if current == seen then
  return 0
end

local reason = redis.call("GET", reasonKey)

redis.call("XADD", auditKey, "MAXLEN", "~", ARGV[3], "*",
  "actor", ARGV[4],
  "command", ARGV[5],
  "args", ARGV[6],
  "reason", reason or "",
  "before", seen or "",
  "after", current or "",
  "ts", now)
if current then
  redis.call("HSET", lastSeenKey, field, current)
else
  redis.call("HDEL", lastSeenKey, field)
end
redis.call("SET", byKey, ARGV[4])
redis.call("SET", atKey, now)
return 1
