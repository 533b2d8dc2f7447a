import { groups, keys, streams } from "@quantum/contracts";
import { Redis } from "ioredis";

/**
 * The bench's floor for a burst of plans: the least a consumer of apply.plan can do for each plan — read it
 * (XREADGROUP, up to 500 at a time), write one key (SET NX EX, the permit's key with a placeholder value) and
 * acknowledge it — with none of P3.3's reads or checks. Run as its own process, freshly started, against the
 * same burst as P3.3: the time it takes is what this machine, node and ioredis cost before any of P3.3's work.
 * Bench-only; it never runs beside the services.
 */
async function main(): Promise<void> {
  const url = process.env.REDIS_URL;
  if (url === undefined) throw new Error("REDIS_URL is required");
  const read = new Redis(url);
  const write = new Redis(url);
  let running = true;
  process.on("SIGTERM", () => {
    running = false;
  });
  await read.xgroup("CREATE", streams.applyPlan, groups.p33, "$", "MKSTREAM").catch(() => undefined);
  process.stdout.write("ready\n");
  while (running) {
    const reply = (await read.xreadgroup(
      "GROUP",
      groups.p33,
      "floor",
      "COUNT",
      500,
      "BLOCK",
      200,
      "STREAMS",
      streams.applyPlan,
      ">",
    )) as [string, [string, string[]][]][] | null;
    const entries = reply?.[0]?.[1] ?? [];
    if (entries.length === 0) continue;
    const pipe = write.pipeline();
    for (const [, fields] of entries) {
      const at = fields.indexOf("plan_id");
      const planId = at >= 0 && at % 2 === 0 ? fields[at + 1] : undefined;
      if (planId !== undefined) pipe.set(keys.p33Permit(planId), "floor", "EX", 60, "NX");
    }
    pipe.xack(streams.applyPlan, groups.p33, ...entries.map(([id]) => id));
    await pipe.exec();
  }
  read.disconnect();
  write.disconnect();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`floor consumer: ${String(err)}\n`);
    process.exit(1);
  },
);
