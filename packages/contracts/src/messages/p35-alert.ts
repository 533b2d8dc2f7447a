import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { P35_WINDOWS, type P35Window } from "../keys.js";
import { ALERT_SEVERITIES, type AlertSeverity } from "../reasons.js";
import { fields, REASON_CODE_RE } from "../wire.js";

/** An entry of `quantum:p35:alerts` (SPEC §2.8, seed roadmap schema). */
export interface P35Alert {
  readonly window: P35Window;
  /** Bounded reason code that dominates the window. */
  readonly reason: string;
  /** Count of the reason in the window. */
  readonly score: number;
  /** Count of all decisions in the window. */
  readonly total: number;
  /** score / total. */
  readonly share: number;
  /** Epoch seconds. */
  readonly timestamp: number;
  readonly severity: AlertSeverity;
  /** `p35_alert_<timestamp>_<reason>`. */
  readonly alertId: string;
}

const WINDOWS = Object.keys(P35_WINDOWS) as P35Window[];

const codec = defineHashCodec<P35Alert>(
  {
    window: { wire: "window", codec: fields.oneOf(WINDOWS) },
    reason: { wire: "reason", codec: fields.str(128, REASON_CODE_RE, "not a bounded reason code") },
    score: { wire: "score", codec: fields.count() },
    total: { wire: "total", codec: fields.count() },
    share: { wire: "share", codec: fields.float(0) },
    timestamp: { wire: "timestamp", codec: fields.epochSec() },
    severity: { wire: "severity", codec: fields.oneOf(ALERT_SEVERITIES) },
    alertId: { wire: "alert_id", codec: fields.str(256) },
  },
  {
    check: (a) => (a.score > a.total ? ["score", "greater than total"] : null),
  },
);

/** The conventional alert id: `p35_alert_<epoch seconds>_<reason>`. */
export function p35AlertId(timestampSec: number, reason: string): string {
  return `p35_alert_${Math.floor(timestampSec)}_${reason}`;
}

export function decodeP35Alert(input: unknown): DecodeResult<P35Alert> {
  return codec.decode(input);
}

export function encodeP35Alert(a: P35Alert): FieldMap {
  return codec.encode(a);
}
