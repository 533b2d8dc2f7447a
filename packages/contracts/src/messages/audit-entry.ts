import type { DecodeResult, FieldMap } from "../codec.js";
import { defineHashCodec } from "../hash-codec.js";
import { fields } from "../wire.js";

/** Longest `before` / `after` / `args` / `reason` text kept in an audit entry. */
export const MAX_AUDIT_TEXT_CHARS = 4096;

/** The actor of a change the Apply Layer saw on a control key but that no quantumctl command made. */
export const EXTERNAL_ACTOR = "external";

/** The `command` of an external change (its `args` hold the key that changed). */
export const EXTERNAL_COMMAND = "external set";

/**
 * An entry of `quantum:audit`: one change of operator-controlled state. quantumctl writes one per
 * mutating command in the same MULTI as the change; the Apply Layer writes one (actor `external`) per
 * change of the kill switch or trading state that did not come from quantumctl.
 */
export interface AuditEntry {
  /** `user@host` of the operator, or `external`. */
  readonly actor: string;
  /** `kill on`, `state set`, `ledger adopt`, ..., or `external set`. */
  readonly command: string;
  /** JSON list of the command's arguments (for `external set`: the key). */
  readonly args: string;
  /** Why, as the operator gave it (may be empty). */
  readonly reason: string;
  /** The value before the change (JSON or the raw value; empty when there was none). */
  readonly before: string;
  /** The value after the change. */
  readonly after: string;
  /** Epoch seconds of the change. */
  readonly ts: number;
}

const codec = defineHashCodec<AuditEntry>({
  actor: { wire: "actor", codec: fields.str(256) },
  command: { wire: "command", codec: fields.str(64) },
  args: { wire: "args", codec: fields.text(MAX_AUDIT_TEXT_CHARS) },
  reason: { wire: "reason", codec: fields.text(MAX_AUDIT_TEXT_CHARS) },
  before: { wire: "before", codec: fields.text(MAX_AUDIT_TEXT_CHARS) },
  after: { wire: "after", codec: fields.text(MAX_AUDIT_TEXT_CHARS) },
  ts: { wire: "ts", codec: fields.epochSec() },
});

export function decodeAuditEntry(input: unknown): DecodeResult<AuditEntry> {
  return codec.decode(input);
}

export function encodeAuditEntry(e: AuditEntry): FieldMap {
  return codec.encode(e);
}
