import {
  type ApplyPlan,
  decodeApplyPlan,
  encodeGovernorBlock,
  encodeGovernorPermit,
  groups,
  keys,
  streams,
} from "@quantum/contracts";
import { consumerName, type Logger, StreamConsumer } from "@quantum/runtime";
import { Decimal } from "decimal.js";
import type { Redis } from "ioredis";
import { applyLayerInProduction } from "./guard.js";

/** Service name of the dev governor (consumer names, dead letters). */
export const DEV_GOVERNOR_SERVICE = "dev-governor";
/** The reason a dev governor block carries. */
export const DEV_GOVERNOR_BLOCK_REASON = "dev_governor_block";

export interface DevGovernorRules {
  /** Symbols whose EXECUTE plans get a block record (quantum:governor:block:<plan_id>). */
  readonly blockSymbols: ReadonlySet<string>;
  /** Symbols whose EXECUTE plans get a permit with granted=false. */
  readonly denySymbols: ReadonlySet<string>;
}

export type GovernorVerdict = "grant" | "deny" | "block" | "ignore";

/** What the dev governor does with a plan: non-EXECUTE plans are ignored; block wins over deny. */
export function governorVerdict(
  plan: Pick<ApplyPlan, "decision" | "symbol">,
  rules: DevGovernorRules,
): GovernorVerdict {
  if (plan.decision !== "EXECUTE") return "ignore";
  if (rules.blockSymbols.has(plan.symbol)) return "block";
  if (rules.denySymbols.has(plan.symbol)) return "deny";
  return "grant";
}

/** The Governor permit JSON for a plan (computed_qty = close_qty, notional = close_qty × price when known). */
export function governorPermitJson(plan: ApplyPlan, granted: boolean, nowSec: number): string {
  const notional =
    plan.closeQty !== null && plan.price !== null
      ? new Decimal(plan.closeQty).mul(plan.price).toFixed()
      : null;
  return encodeGovernorPermit({
    granted,
    symbol: plan.symbol,
    decision: granted ? "EXECUTE" : "BLOCKED",
    computedQty: plan.closeQty,
    computedNotional: notional,
    createdAt: nowSec,
    consumed: false,
  });
}

export interface DevGovernorOptions {
  redis: Redis;
  /** Separate connection for XREADGROUP BLOCK. */
  blocking: Redis;
  logger: Logger;
  /** Consumer name in group `governor`; default `<hostname>-dev-governor`. */
  consumer?: string;
  blockSymbols?: readonly string[];
  denySymbols?: readonly string[];
  /** Wait this long before answering each batch of plans (ms); default 0. */
  delayMs?: number;
  /** TTL of permits and block records; default 60 s. */
  permitTtlSec?: number;
  /** Where the group starts when it is created; default "$" (new plans only). */
  startId?: string;
}

export interface DevGovernor {
  readonly consumer: string;
  /** Verdicts written so far. */
  readonly counts: Readonly<Record<GovernorVerdict, number>>;
  /** Whether the stream loop made progress recently. */
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * A small auto-approving Governor for the demo stack and tests (never a production component): reads
 * apply.plan with group `governor` and answers every EXECUTE plan with a permit (granted, or denied for
 * GOVERNOR_DENY_SYMBOLS) or a block record (GOVERNOR_BLOCK_SYMBOLS). Writes use SET NX, so a redelivered
 * plan never re-grants a permit the Apply Layer already consumed. While the Apply Layer reports
 * production mode in its status key it answers nothing.
 */
export function startDevGovernor(o: DevGovernorOptions): DevGovernor {
  const rules: DevGovernorRules = {
    blockSymbols: new Set(o.blockSymbols ?? []),
    denySymbols: new Set(o.denySymbols ?? []),
  };
  const ttl = o.permitTtlSec ?? 60;
  const log = o.logger.child({ component: "dev-governor" });
  const counts: Record<GovernorVerdict, number> = { grant: 0, deny: 0, block: 0, ignore: 0 };
  const name = consumerName(DEV_GOVERNOR_SERVICE, o.consumer);
  let productionWarned = false;

  async function handleBatch(items: { id: string; value: ApplyPlan }[]): Promise<string[]> {
    if (items.some((i) => governorVerdict(i.value, rules) !== "ignore")) {
      if (await applyLayerInProduction(o.redis)) {
        if (!productionWarned)
          log.error({}, "apply layer runs in production: the dev governor answers nothing");
        productionWarned = true;
        return items.map((i) => i.id);
      }
      if ((o.delayMs ?? 0) > 0) {
        await new Promise((resolve) => {
          setTimeout(resolve, o.delayMs).unref();
        });
      }
    }
    const nowSec = Date.now() / 1000;
    const pipe = o.redis.pipeline();
    for (const { value: plan } of items) {
      const verdict = governorVerdict(plan, rules);
      counts[verdict]++;
      if (verdict === "ignore") continue;
      if (verdict === "block") {
        const block = encodeGovernorBlock({
          reason: DEV_GOVERNOR_BLOCK_REASON,
          timestamp: nowSec,
          symbol: plan.symbol,
        });
        pipe.set(keys.governorBlock(plan.planId), block, "EX", ttl, "NX");
      } else {
        pipe.set(
          keys.governorPermit(plan.planId),
          governorPermitJson(plan, verdict === "grant", nowSec),
          "EX",
          ttl,
          "NX",
        );
      }
      log.info({ planId: plan.planId, symbol: plan.symbol, verdict }, "plan answered");
    }
    const replies = (await pipe.exec()) ?? [];
    const failed = replies.find(([err]) => err !== null);
    if (failed !== undefined) throw failed[0];
    return items.map((i) => i.id);
  }

  const consumer = new StreamConsumer<ApplyPlan>({
    redis: o.redis,
    blocking: o.blocking,
    stream: streams.applyPlan,
    group: groups.governor,
    consumer: name,
    service: DEV_GOVERNOR_SERVICE,
    startId: o.startId ?? "$",
    decode: (fields) => decodeApplyPlan(fields),
    handleBatch,
    logger: log,
  });
  consumer.start();
  log.info(
    { consumer: name, block: [...rules.blockSymbols], deny: [...rules.denySymbols] },
    "dev governor started",
  );
  return {
    consumer: name,
    counts,
    alive: () => consumer.alive(),
    stop: () => consumer.stop(),
  };
}
