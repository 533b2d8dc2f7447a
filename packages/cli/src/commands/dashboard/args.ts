import { DEFAULT_GATE_THRESHOLD_PCT } from "@quantum/insight";
import { UsageError } from "../../errors/usage-error.js";
import { validateSymbol } from "../permit.js";

/** Space/comma separated symbols → validated upper-case list (usage error on a bad one). */
export function parseSymbolList(arg: string | undefined): string[] | null {
  if (arg === undefined || arg.trim() === "") return null;
  const list = arg
    .split(/[\s,]+/)
    .filter((s) => s !== "")
    .map(validateSymbol);
  return [...new Set(list)];
}

export function parseThreshold(arg: string | number | undefined): number {
  if (arg === undefined) return DEFAULT_GATE_THRESHOLD_PCT;
  const text = String(arg).trim().replace(/%$/, "");
  const n = Number(text);
  if (text === "" || !Number.isFinite(n) || n <= 0 || n > 100) {
    throw new UsageError(`threshold must be a percentage in (0, 100], got "${arg}"`);
  }
  return n;
}
