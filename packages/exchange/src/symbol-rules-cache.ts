import type { SymbolRules } from "./types.js";

export interface SymbolRulesCacheOptions {
  /** How long a fetched exchangeInfo is fresh. */
  ttlMs: number;
  /** After a failed refresh with stale data at hand, serve the stale data this long before trying again. */
  retryMs: number;
}

/**
 * exchangeInfo rules behind a TTL: one fetch serves every symbol, concurrent callers share one in-flight
 * fetch, and a failed refresh falls back to the previous rules (never a fetch per order).
 */
export class SymbolRulesCache {
  private data: Map<string, SymbolRules> | null = null;
  private fetchedAt = 0;
  private nextAttemptAt = 0;
  private inflight: Promise<Map<string, SymbolRules>> | null = null;

  constructor(
    private readonly fetchAll: () => Promise<Map<string, SymbolRules>>,
    private readonly opts: SymbolRulesCacheOptions,
  ) {}

  async get(symbol: string): Promise<SymbolRules | null> {
    const now = Date.now();
    const cached = this.data;
    if (cached !== null && (now - this.fetchedAt < this.opts.ttlMs || now < this.nextAttemptAt)) {
      return cached.get(symbol) ?? null;
    }
    try {
      return (await this.refresh()).get(symbol) ?? null;
    } catch (err) {
      if (cached === null) throw err;
      this.nextAttemptAt = Date.now() + this.opts.retryMs;
      return cached.get(symbol) ?? null;
    }
  }

  private refresh(): Promise<Map<string, SymbolRules>> {
    if (this.inflight === null) {
      this.inflight = this.fetchAll()
        .then((m) => {
          this.data = m;
          this.fetchedAt = Date.now();
          return m;
        })
        .finally(() => {
          this.inflight = null;
        });
    }
    return this.inflight;
  }
}
