import type { ApplyMode } from "@quantum/contracts";
import { errorText } from "@quantum/contracts";
import { type StatusResult, statusSnapshot } from "./commands/status.js";
import { closeRedis, connectRedis } from "./redis.js";
import { renderStatus } from "./render/status.js";
import type { Invocation } from "./run.js";

const CLEAR_SCREEN = "\u001b[2J\u001b[H";

export interface WatchOptions {
  url: string;
  json: boolean;
  intervalSec: number;
  mode?: ApplyMode;
}

/**
 * `status --watch`: redraw every interval until SIGINT. The screen is cleared only on a TTY; otherwise frames
 * are appended (text separated by a blank line, --json as one JSON document per line). A Redis outage while
 * watching is shown in the frame and retried; the first connection must succeed.
 */
export async function watchStatus(inv: Invocation, opts: WatchOptions): Promise<void> {
  inv.json = opts.json;
  const redis = await connectRedis({ url: opts.url, reconnect: true });
  let stop = false;
  let wake: (() => void) | null = null;
  const unregister = inv.io.onInterrupt(() => {
    stop = true;
    wake?.();
  });
  const style = inv.style(opts.json);
  const clear = inv.io.isTTY && !opts.json;
  try {
    let first = true;
    while (!stop) {
      let frame: string;
      try {
        const snap: StatusResult = await statusSnapshot(redis, {
          ...(opts.mode !== undefined ? { mode: opts.mode } : {}),
          ...(inv.io.env.APPLY_MODE !== undefined ? { envMode: inv.io.env.APPLY_MODE } : {}),
        });
        frame = opts.json ? JSON.stringify(snap) : renderStatus(snap, style);
      } catch (err) {
        const message = errorText(err);
        frame = opts.json
          ? JSON.stringify({ error: { code: "redis_error", message }, at: Date.now() / 1000 })
          : style.red(`${new Date().toISOString()}  Redis error: ${message} (retrying)`);
      }
      if (stop) break;
      if (clear) inv.io.stdout(CLEAR_SCREEN);
      else if (!first && !opts.json) inv.io.stdout("\n");
      inv.io.stdout(`${frame}\n`);
      if (!opts.json && clear)
        inv.io.stdout(style.dim(`\nrefresh every ${opts.intervalSec}s, Ctrl-C to quit\n`));
      first = false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, opts.intervalSec * 1000);
        wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      wake = null;
    }
  } finally {
    unregister();
    await closeRedis(redis);
  }
}
