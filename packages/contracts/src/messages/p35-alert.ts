import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { P35_WINDOWS, type P35Window } from "../keys.js";
import { ALERT_SEVERITIES, type AlertSeverity } from "../reasons.js";
import { fields, REASON_CODE_RE, SYMBOL_RE } from "../wire.js";

/** The `window` of a stuck-symbol alert (its span is P35_STUCK_MINUTES, not one of the windows). */
export const P35_STUCK_ALERT_WINDOW = "stuck";
export type P35AlertWindow = P35Window | typeof P35_STUCK_ALERT_WINDOW;

/**
 * An entry of `quantum:p35:alerts`. A stuck-symbol alert has window `stuck`, the symbol's dominant gate as
 * `reason`, its plans in the span as `total` and the `symbol` field; the others have no `symbol`.
 */
export interface P35Alert {
  readonly window: P35AlertWindow;
  /** Bounded reason code that dominates the window. */
  readonly reason: string;
  /** Count of the reason in the window. */
  readonly score: number;
  /** Count of all decisions in the window (of the symbol, for a stuck alert). */
  readonly total: number;
  /** score / total. */
  readonly share: number;
  /** Epoch seconds. */
  readonly timestamp: number;
  readonly severity: AlertSeverity;
  /** `p35_alert_<timestamp>_<reason>` (`…_<reason>_<symbol>` for a stuck alert). */
  readonly alertId: string;
  /** The stuck symbol (stuck alerts only). */
  readonly symbol?: string;
}

const WINDOWS: readonly P35AlertWindow[] = [
  ...(Object.keys(P35_WINDOWS) as P35Window[]),
  P35_STUCK_ALERT_WINDOW,
];

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
    symbol: { wire: "symbol", codec: fields.optStr(40, SYMBOL_RE, "not a symbol") },
  },
  {
    check: (a) => {
      if (a.score > a.total) return ["score", "greater than total"];
      if ((a.window === P35_STUCK_ALERT_WINDOW) !== (a.symbol !== undefined))
        return ["symbol", "required for a stuck alert and only there"];
      return null;
    },
  },
);

/** The conventional alert id: `p35_alert_<epoch seconds>_<reason>`, then `_<symbol>` for a stuck alert. */
export function p35AlertId(timestampSec: number, reason: string, symbol?: string): string {
  const id = `p35_alert_${Math.floor(timestampSec)}_${reason}`;
  return symbol === undefined ? id : `${id}_${symbol}`;
}

export function decodeP35Alert(input: unknown): DecodeResult<P35Alert> {
  return codec.decode(input);
}

export function encodeP35Alert(a: P35Alert): FieldMap {
  return codec.encode(a);
}
