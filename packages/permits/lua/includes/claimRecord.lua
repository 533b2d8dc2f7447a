-- Create the execution record of a plan in state CLAIMED (with its TTL) and list it in the open execution
-- index: the one write of a claim, included by consumePermits-6.lua and claimExecution-4.lua.
local function claimRecord(execRecordKey, execOpenKey, nowMs, execRecordTtlSec, planId, symbol)
  local nowSec = string.format("%.3f", nowMs / 1000)
  redis.call("HSET", execRecordKey,
    "state", "CLAIMED",
    "plan_id", planId,
    "symbol", symbol,
    "created_at", nowSec,
    "updated_at", nowSec)
  if execRecordTtlSec and execRecordTtlSec > 0 then
    redis.call("EXPIRE", execRecordKey, execRecordTtlSec)
  end
  redis.call("ZADD", execOpenKey, nowMs, planId)
end
