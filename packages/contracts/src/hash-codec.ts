import { z } from "zod";
import { type DecodeResult, decodeFail, decodeWith, type FieldMap, isPlainRecord } from "./codec.js";
import { EncodeError } from "./encode-error.js";
import { errorText } from "./error-text.js";
import type { FieldCodec } from "./wire.js";

/** Where one property of T travels: its wire field name and codec. */
export interface FieldSpec<V> {
  readonly wire: string;
  readonly codec: FieldCodec<V>;
}

/** One spec per property of T (optional properties included). */
export type FieldSpecs<T> = { readonly [K in keyof T]-?: FieldSpec<T[K]> };

export interface HashCodecOptions<T> {
  /** Fields written with a fixed value (`source=apply_layer`, `v=1`). */
  readonly constants?: Readonly<Record<string, string>>;
  /** When false, an absent constant is accepted on decode (a present one must still match). Default true. */
  readonly constantsRequired?: boolean;
  /** Fields derived from the whole value, added by encode (e.g. `error` from `reason`). */
  readonly derived?: (value: T) => FieldMap;
  /** Cross-field checks after the per-field ones: return [wireField, message] of a violation, or null. */
  readonly check?: (value: T, raw: Readonly<Record<string, unknown>>) => readonly [string, string] | null;
}

/** Encode/decode of a message that travels as a field map (stream entry or hash). */
export interface HashCodec<T> {
  /** Decode an untrusted field map. Never throws. */
  decode(input: unknown): DecodeResult<T>;
  /** Encode a whole message (with its constants); throws EncodeError when its own decoder would reject it. */
  encode(value: T): FieldMap;
  /** Encode only the given properties (for HSET updates); each is validated. Constants are not added. */
  encodePatch(patch: Partial<T>): FieldMap;
  /** Wire field name of each property. */
  readonly wireNames: { readonly [K in keyof T]-?: string };
}

export function defineHashCodec<T>(specs: FieldSpecs<T>, opts: HashCodecOptions<T> = {}): HashCodec<T> {
  const entries = Object.entries(specs) as [keyof T & string, FieldSpec<unknown>][];
  const constants = opts.constants ?? {};
  const constantsRequired = opts.constantsRequired ?? true;
  const constantEntries = Object.entries(constants);

  const shape: Record<string, z.ZodType> = {};
  for (const [, spec] of entries) shape[spec.wire] = spec.codec.schema;
  for (const [name, value] of Object.entries(constants)) {
    const exact = z.literal(value, { error: `must be ${value}` });
    shape[name] = constantsRequired ? exact : exact.optional();
  }
  const wireSchema = z.object(shape, { error: "expected a field map" });
  const wireNames = Object.fromEntries(entries.map(([key, spec]) => [key, spec.wire])) as {
    readonly [K in keyof T]-?: string;
  };

  function fromWire(wire: Record<string, unknown>): T {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of entries) {
      const v = wire[spec.wire];
      if (v !== undefined) out[key] = v;
    }
    return out as T;
  }

  /** The reading without zod: each field in order, then the constants; the first problem is reported. */
  function read(input: Record<string, unknown>): DecodeResult<T> {
    const out: Record<string, unknown> = {};
    for (const [key, spec] of entries) {
      const r = spec.codec.read(input[spec.wire]);
      if (!r.ok) return decodeFail(spec.wire, r.problem);
      if (r.value !== undefined) out[key] = r.value;
    }
    for (const [name, value] of constantEntries) {
      const v = input[name];
      if (v !== value && (v !== undefined || constantsRequired)) return decodeFail(name, `must be ${value}`);
    }
    return { ok: true, value: out as T };
  }

  function decode(input: unknown): DecodeResult<T> {
    try {
      if (!isPlainRecord(input)) return decodeFail("$", "expected a field map");
      let parsed: DecodeResult<T>;
      try {
        parsed = read(input);
      } catch {
        // An input that throws when read (a getter, a proxy): the zod reading names the failure.
        const viaZod = decodeWith(wireSchema, input);
        parsed = viaZod.ok ? { ok: true, value: fromWire(viaZod.value) } : viaZod;
      }
      if (!parsed.ok) return parsed;
      const value = parsed.value;
      const violation = opts.check ? opts.check(value, input) : null;
      return violation === null ? { ok: true, value } : decodeFail(violation[0], violation[1]);
    } catch (err) {
      return decodeFail("$", `decoder failure: ${errorText(err)}`);
    }
  }

  function encodeField(spec: FieldSpec<unknown>, v: unknown): string | undefined {
    try {
      return spec.codec.encode(v);
    } catch (err) {
      throw new EncodeError(spec.wire, errorText(err));
    }
  }

  function encode(value: T): FieldMap {
    const out: FieldMap = {};
    for (const [key, spec] of entries) {
      const text = encodeField(spec, value[key]);
      if (text !== undefined) out[spec.wire] = text;
    }
    Object.assign(out, constants);
    if (opts.derived) Object.assign(out, opts.derived(value));
    const check = decode(out);
    if (!check.ok) throw new EncodeError(check.error.field, check.error.problem);
    return out;
  }

  function encodePatch(patch: Partial<T>): FieldMap {
    const out: FieldMap = {};
    for (const [key, spec] of entries) {
      if (!Object.hasOwn(patch, key)) continue;
      const text = encodeField(spec, patch[key]);
      if (text === undefined) continue;
      const parsed = spec.codec.read(text);
      if (!parsed.ok) throw new EncodeError(spec.wire, parsed.problem);
      out[spec.wire] = text;
    }
    return out;
  }

  return { decode, encode, encodePatch, wireNames };
}
