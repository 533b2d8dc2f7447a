import { describe, expect, it } from "vitest";
import {
  ALL_KNOWN_REASONS,
  APPLY_REASONS,
  boundReason,
  isApplyReason,
  REASON_CODE_RE,
} from "../src/index.js";

describe("boundReason", () => {
  it.each([
    ["permit_timeout_or_missing:missing_p33", "permit_timeout_or_missing:missing_p33", ""],
    ["permit_timeout_or_missing:missing_both", "permit_timeout_or_missing:missing_both", ""],
    ["exchange_rejected: -2022 ReduceOnly", "exchange_rejected", "-2022 ReduceOnly"],
    ["exchange_rejected -2022", "exchange_rejected", "-2022"],
    ["Some Free Text: x", "some_free_text", "x"],
    ["none", "none", ""],
    ["", "none", ""],
    ["   ", "none", ""],
    ["p33_permit_denied:no_position", "p33_permit_denied", "no_position"],
    ["!!!: y", "unknown", "y"],
  ])("%j -> %s / %j", (raw, reason, detail) => {
    expect(boundReason(raw)).toEqual({ reason, detail });
  });

  it("caps unknown codes at 64 chars of [a-z0-9_]", () => {
    const { reason } = boundReason(`${"A".repeat(500)} ${"é".repeat(10)}`);
    expect(reason.length).toBeLessThanOrEqual(64);
    expect(reason).toMatch(/^[a-z0-9_]+$/);
  });

  it("does not match a known code that is only a prefix of a longer word", () => {
    expect(boundReason("nonexistent").reason).toBe("nonexistent");
  });
});

describe("reason lists", () => {
  it("every known reason is a bounded code", () => {
    for (const r of ALL_KNOWN_REASONS) expect(r).toMatch(REASON_CODE_RE);
  });

  it("isApplyReason", () => {
    expect(APPLY_REASONS.every(isApplyReason)).toBe(true);
    expect(isApplyReason("sanity_checks_passed")).toBe(false);
    expect(isApplyReason("exchange_rejected: -2022")).toBe(false);
  });
});
