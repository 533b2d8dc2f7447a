import {
  AUDIT_STREAM_MAXLEN,
  type AuditEntry,
  clampText,
  decodeAuditEntry,
  EXTERNAL_COMMAND,
  encodeAuditEntry,
  MAX_AUDIT_TEXT_CHARS,
  streams,
} from "@quantum/contracts";
import type { ChainableCommander, Redis } from "ioredis";
import { CommandFailedError } from "../errors/command-failed-error.js";
import { listStream, type StreamRow } from "./stream-list.js";

/** One change as a mutating command describes it; the actor and time are added when it is written. */
export interface AuditChange {
  readonly command: string;
  readonly args: readonly string[];
  readonly reason: string | null;
  /** The value before (null: there was none). */
  readonly before: string | null;
  /** The value after (null: removed). */
  readonly after: string | null;
}

/** Queue the audit entry of a change on a MULTI, so it is written together with the change. */
export function queueAudit(tx: ChainableCommander, actor: string, change: AuditChange, nowMs: number): void {
  const text = (s: string | null) => clampText(s ?? "", MAX_AUDIT_TEXT_CHARS);
  const entry: AuditEntry = {
    actor: clampText(actor.trim() === "" ? "unknown" : actor.trim(), 256),
    command: change.command,
    args: text(JSON.stringify(change.args)),
    reason: text(change.reason),
    before: text(change.before),
    after: text(change.after),
    ts: Number((nowMs / 1000).toFixed(3)),
  };
  tx.xadd(
    streams.audit,
    "MAXLEN",
    "~",
    String(AUDIT_STREAM_MAXLEN),
    "*",
    ...Object.entries(encodeAuditEntry(entry)).flat(),
  );
}

/** EXEC a MULTI; throws CommandFailedError when it was aborted or a command in it failed. */
export async function execChecked(tx: ChainableCommander): Promise<unknown[] | null> {
  const replies = await tx.exec();
  if (replies === null) return null;
  return replies.map(([err, value]) => {
    if (err) throw new CommandFailedError(`write failed: ${err.message}`);
    return value;
  });
}

/**
 * Run a change atomically with what it read: WATCH the keys, read the current state, queue the writes on a
 * MULTI (the change and its audit entry), EXEC. A concurrent write to a watched key aborts the EXEC; the
 * read and the writes are then repeated (at most `attempts` times) so `before` is never stale.
 */
export async function atomicChange<T>(
  redis: Redis,
  watched: readonly string[],
  step: (tx: ChainableCommander) => Promise<T>,
  attempts = 5,
): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    await redis.watch(...watched);
    let result: T;
    const tx = redis.multi();
    try {
      result = await step(tx);
    } catch (err) {
      tx.discard();
      await redis.unwatch();
      throw err;
    }
    if ((await execChecked(tx)) === null) continue;
    return result;
  }
  throw new CommandFailedError(`the keys kept changing under this command (${attempts} attempts); try again`);
}

/** One audit entry as quantumctl shows it. */
export type AuditRow = StreamRow<AuditEntry>;

/** How far back `kill status` / `state show` look for the last change of their key. */
export const LAST_CHANGE_LOOKBACK = 5000;

/**
 * The newest audit entry that changed `key`: one of `commands`, or an external change of that key.
 * Null when none is in the last LAST_CHANGE_LOOKBACK entries.
 */
export async function lastChangeOf(
  redis: Redis,
  key: string,
  commands: readonly string[],
): Promise<AuditRow | null> {
  const externalArgs = JSON.stringify([key]);
  const { rows } = await listStream(
    redis,
    streams.audit,
    decodeAuditEntry,
    { limit: 1, maxScan: LAST_CHANGE_LOOKBACK },
    (row) => {
      const e = row.value;
      if (e === null) return false;
      return commands.includes(e.command) || (e.command === EXTERNAL_COMMAND && e.args === externalArgs);
    },
  );
  return rows[0] ?? null;
}
