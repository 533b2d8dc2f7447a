import type { z } from "zod";
import { DecodeError } from "./decode-error.js";

/** A stream entry or hash as Redis returns it: field name → string value. */
export type FieldMap = Record<string, string>;

/** Outcome of every decoder: a value, or the first offending field. Decoders never throw. */
export type DecodeResult<T> = { ok: true; value: T } | { ok: false; error: DecodeError };

export function decodeOk<T>(value: T): DecodeResult<T> {
  return { ok: true, value };
}

export function decodeFail<T>(field: string, message: string): DecodeResult<T> {
  return { ok: false, error: new DecodeError(field, message) };
}

/**
 * ioredis' flat field array of a stream entry (`[k1, v1, k2, v2, …]`) as a record. A repeated field keeps
 * its last value (as Python's redis client does); a dangling key without value is dropped. The record has
 * no prototype, so a field named `__proto__` or `constructor` is just a field.
 */
export function fieldsToRecord(fields: readonly string[]): FieldMap {
  const out: FieldMap = Object.create(null);
  for (let i = 0; i + 1 < fields.length; i += 2) {
    out[fields[i]!] = fields[i + 1]!;
  }
  return out;
}

/** A record as the flat `[k1, v1, …]` array XADD/HSET take. */
export function recordToFields(record: Readonly<Record<string, string>>): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) out.push(k, v);
  return out;
}

/** True for a non-null, non-array object (a field map or a JSON object). */
export function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

/**
 * Run a zod schema over an untrusted value and report the first issue by its top-level field name.
 * Never throws: anything thrown inside the schema (a stack overflow, a getter) becomes a DecodeError on `$`.
 */
export function decodeWith<T>(schema: z.ZodType<T>, input: unknown): DecodeResult<T> {
  try {
    const parsed = schema.safeParse(input);
    if (parsed.success) return decodeOk(parsed.data);
    const issue = parsed.error.issues[0];
    if (issue === undefined) return decodeFail("$", "invalid");
    const head = issue.path[0];
    const field = head === undefined ? "$" : String(head);
    return decodeFail(field, issue.message);
  } catch (err) {
    return decodeFail("$", `decoder failure: ${describe(err)}`);
  }
}

/** Parse a JSON text; `$` names the failure. Never throws. */
export function parseJson(raw: unknown, field = "$"): DecodeResult<unknown> {
  if (typeof raw !== "string")
    return decodeFail(field, raw === undefined || raw === null ? "missing" : "expected a JSON string");
  try {
    return decodeOk(JSON.parse(raw) as unknown);
  } catch (err) {
    return decodeFail(field, `invalid JSON: ${describe(err)}`);
  }
}
