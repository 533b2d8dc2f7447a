import { errorText } from "@quantum/contracts";
import { StackStartError } from "./errors/stack-start-error.js";
import type { Stack, StackOptions } from "./stack-types.js";
import { Supervisor } from "./supervisor.js";

/**
 * Bring the local stack up: redis-server (or REDIS_URL), the demo feeder (it opens the paper positions),
 * P3.3, P3.5 and the dev governor, then the Apply Layer once both readers of apply.plan exist. Throws
 * StackStartError after stopping whatever had started.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  const s = new Supervisor(o);
  try {
    await s.up();
  } catch (err) {
    const why = errorText(err);
    await s.stop(`start failed: ${why}`);
    throw err instanceof StackStartError ? err : new StackStartError(why, { cause: err });
  }
  return {
    get redis() {
      return s.state().redis;
    },
    get services() {
      return s.services();
    },
    done: s.done,
    state: () => s.state(),
    pid: (name) => s.pid(name),
    tail: (name) => s.tail(name),
    stopChild: (name) => s.stopChild(name),
    startChild: (name) => s.startChild(name),
    stop: (reason) => s.stop(reason),
    killNow: () => s.killNow(),
  };
}
