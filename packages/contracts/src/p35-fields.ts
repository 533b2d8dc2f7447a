/**
 * Field names inside the P3.5 hashes. A minute bucket and a day rollup hold `decision:<D>`, `reason:<R>`,
 * `symbol_decision:<SYMBOL>:<D>` and `symbol_reason:<SYMBOL>:<R>` (every field a count); the per-symbol window
 * hashes hold `<SYMBOL>:<D>` and `<SYMBOL>:<R>`. A symbol never contains `:`; a reason may
 * (`permit_timeout_or_missing:missing_p33`).
 */
export const p35Fields = {
  decision: (decision: string) => `decision:${decision}`,
  reason: (reason: string) => `reason:${reason}`,
  symbolDecision: (symbol: string, decision: string) => `symbol_decision:${symbol}:${decision}`,
  symbolReason: (symbol: string, reason: string) => `symbol_reason:${symbol}:${reason}`,
  /** Field of a per-symbol window hash: `<SYMBOL>:<D or R>`. */
  symbolEntry: (symbol: string, value: string) => `${symbol}:${value}`,
} as const;

export const P35_FIELD_PREFIX = {
  decision: "decision:",
  reason: "reason:",
  symbolDecision: "symbol_decision:",
  symbolReason: "symbol_reason:",
} as const;

/** `<SYMBOL>:<rest>` → [SYMBOL, rest]; null when either part is empty. */
export function splitSymbolEntry(text: string): [string, string] | null {
  const i = text.indexOf(":");
  if (i <= 0 || i === text.length - 1) return null;
  return [text.slice(0, i), text.slice(i + 1)];
}
