import { eventually } from "@quantum/testkit";
import type { Redis } from "ioredis";
import { type Fields, toFields } from "./traffic.js";

/** Follows a stream with plain XRANGE reads (no group), keeping every entry in memory. */
export class StreamFollower {
  readonly entries: Array<{ id: string; fields: Fields }> = [];
  private last = "0-0";

  constructor(
    private readonly r: Redis,
    readonly stream: string,
  ) {}

  async poll(): Promise<void> {
    for (;;) {
      const rows = (await this.r.xrange(this.stream, `(${this.last}`, "+", "COUNT", 500)) as Array<
        [string, string[]]
      >;
      for (const [id, flat] of rows) {
        this.entries.push({ id, fields: toFields(flat) });
        this.last = id;
      }
      if (rows.length < 500) return;
    }
  }

  /** Poll until `pred` holds for some entry; returns it. */
  async waitFor(pred: (f: Fields, id: string) => boolean, timeoutMs: number, what: string): Promise<Fields> {
    return eventually(
      async () => {
        const hit = this.entries.find((e) => pred(e.fields, e.id));
        if (hit !== undefined) return hit.fields;
        await this.poll();
        const again = this.entries.find((e) => pred(e.fields, e.id));
        if (again === undefined) throw new Error(`not yet: ${what}`);
        return again.fields;
      },
      { timeoutMs, intervalMs: 50, message: what },
    );
  }
}

export interface GroupState {
  readonly pending: number;
  readonly lag: number | null;
}

/** XINFO GROUPS of a stream as name → {pending, lag}. */
export async function groupStates(r: Redis, stream: string): Promise<Record<string, GroupState>> {
  const rows = (await r.xinfo("GROUPS", stream)) as unknown[][];
  const out: Record<string, GroupState> = {};
  for (const row of rows) {
    const m = new Map<string, unknown>();
    for (let i = 0; i + 1 < row.length; i += 2) m.set(String(row[i]), row[i + 1]);
    const lag = m.get("lag");
    out[String(m.get("name"))] = {
      pending: Number(m.get("pending")),
      lag: lag === null || lag === undefined ? null : Number(lag),
    };
  }
  return out;
}
