import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  applyPlanFields,
  applyResultFields,
  type DecodeResult,
  decodeApplyPlan,
  decodeApplyResult,
  decodeDeadLetter,
  decodeExecRecord,
  decodeGovernorBlock,
  decodeGovernorPermit,
  decodeHarvestProposal,
  decodeP33Permit,
  decodeP35Alert,
  decodePaperPosition,
  decodePositionLedger,
  decodePositionSnapshot,
  decodePositionView,
  encodeApplyPlan,
  encodeApplyResult,
  encodeDeadLetter,
  encodeExecRecord,
  encodeGovernorBlock,
  encodeGovernorPermit,
  encodeHarvestProposal,
  encodeP33Permit,
  encodeP35Alert,
  encodePaperPosition,
  encodePositionLedger,
  encodePositionSnapshot,
  encodePositionView,
  execRecordFields,
  type FieldMap,
  positionLedgerFields,
} from "../src/index.js";
import * as arb from "./arbitraries.js";

interface CodecCase {
  readonly name: string;
  readonly valid: fc.Arbitrary<unknown>;
  readonly encode: (v: unknown) => FieldMap | string;
  readonly decode: (raw: unknown) => DecodeResult<unknown>;
}

function codecCase<T>(
  name: string,
  valid: fc.Arbitrary<T>,
  encode: (v: T) => FieldMap | string,
  decode: (raw: unknown) => DecodeResult<T>,
): CodecCase {
  return { name, valid, encode: (v) => encode(v as T), decode };
}

const codecs: CodecCase[] = [
  codecCase("HarvestProposal", arb.harvestProposal, encodeHarvestProposal, (f) => decodeHarvestProposal(f)),
  codecCase("ApplyPlan", arb.applyPlan, encodeApplyPlan, decodeApplyPlan),
  codecCase("ApplyResult", arb.applyResult, encodeApplyResult, decodeApplyResult),
  codecCase("GovernorPermit", arb.governorPermit, encodeGovernorPermit, decodeGovernorPermit),
  codecCase("GovernorBlock", arb.governorBlock, encodeGovernorBlock, decodeGovernorBlock),
  codecCase("P33Permit", arb.p33Permit, encodeP33Permit, decodeP33Permit),
  codecCase("PositionSnapshot", arb.positionSnapshot, encodePositionSnapshot, decodePositionSnapshot),
  codecCase("PositionLedger", arb.positionLedger, encodePositionLedger, decodePositionLedger),
  codecCase("PositionView", arb.positionView, encodePositionView, decodePositionView),
  codecCase("PaperPosition", arb.paperPosition, encodePaperPosition, decodePaperPosition),
  codecCase("ExecRecord", arb.execRecord, encodeExecRecord, decodeExecRecord),
  codecCase("P35Alert", arb.p35Alert, encodeP35Alert, decodeP35Alert),
  codecCase("DeadLetter", arb.deadLetter, encodeDeadLetter, decodeDeadLetter),
];

/** Field names a decoder may name in an error (besides `$`). */
const knownFields: Record<string, string[]> = {
  HarvestProposal: [
    "symbol",
    "harvest_action",
    "action",
    "calibrated",
    "kill_score",
    "k_regime_flip",
    "k_sigma_spike",
    "k_ts_drop",
    "k_age_penalty",
    "new_sl_proposed",
    "R_net",
    "last_update_epoch",
    "computed_at_utc",
    "reason_codes",
  ],
  ApplyPlan: [...Object.values(applyPlanFields), "source", "v"],
  ApplyResult: [...Object.values(applyResultFields), "error", "source", "v"],
  GovernorPermit: [
    "granted",
    "symbol",
    "decision",
    "computed_qty",
    "computed_notional",
    "created_at",
    "consumed",
  ],
  GovernorBlock: ["reason", "timestamp", "symbol"],
  P33Permit: [
    "allow",
    "symbol",
    "safe_qty",
    "safe_close_qty",
    "exchange_position_amt",
    "ledger_amt",
    "created_at",
    "reason",
    "context",
  ],
  PositionSnapshot: [
    "position_amt",
    "side",
    "entry_price",
    "mark_price",
    "unrealized_pnl",
    "leverage",
    "ts_epoch",
    "source",
  ],
  PositionLedger: Object.values(positionLedgerFields),
  PositionView: ["exchange_amt", "ledger_amount", "mismatch_since", "snapshot_ts"],
  PaperPosition: ["position_amt", "entry_price", "mark_price"],
  ExecRecord: Object.values(execRecordFields),
  P35Alert: ["window", "reason", "score", "total", "share", "timestamp", "severity", "alert_id", "symbol"],
  DeadLetter: ["stream", "id", "service", "error", "raw", "truncated", "ts"],
};

const isJsonCodec = (name: string) => ["GovernorPermit", "GovernorBlock", "P33Permit"].includes(name);

describe.each(codecs)("$name codec", ({ name, valid, encode, decode }) => {
  it("decode(encode(x)) deep-equals x", () => {
    fc.assert(
      fc.property(valid, (x) => {
        const wire = encode(x);
        if (!isJsonCodec(name)) {
          for (const v of Object.values(wire as FieldMap)) expect(typeof v).toBe("string");
        }
        const back = decode(wire);
        expect(back.ok ? null : back.error.message).toBeNull();
        if (back.ok) expect(back.value).toEqual(x);
      }),
      { numRuns: 200 },
    );
  });

  it("never throws on hostile field maps and names a known field when it rejects", () => {
    const fieldMap = fc.dictionary(
      fc.oneof(fc.constantFrom(...knownFields[name]!), fc.string(), fc.string({ unit: "binary" })),
      arb.hostileValue,
      { maxKeys: 12 },
    );
    // Start from a valid message and overwrite some fields, so rejections are deep, not just "missing".
    const mutated = fc.tuple(valid, fieldMap).map(([x, patch]) => {
      const wire = encode(x);
      const base = typeof wire === "string" ? (JSON.parse(wire) as Record<string, unknown>) : wire;
      const merged = Object.assign(Object.create(null) as Record<string, unknown>, base, patch);
      return isJsonCodec(name) ? JSON.stringify(merged) : merged;
    });
    const input = fc.oneof(fieldMap, mutated, fc.anything());
    let rejected = 0;
    fc.assert(
      fc.property(input, (raw) => {
        let r: DecodeResult<unknown> | undefined;
        expect(() => {
          r = decode(isJsonCodec(name) && typeof raw !== "string" ? JSON.stringify(raw) : raw);
        }).not.toThrow();
        if (r && !r.ok) {
          rejected += 1;
          expect(["$", ...knownFields[name]!]).toContain(r.error.field);
          expect(r.error.message.startsWith(`${r.error.field}: `)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
    expect(rejected).toBeGreaterThan(0);
  });
});
