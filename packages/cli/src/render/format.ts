import type { KeyView } from "@quantum/insight";
import type { Style } from "./style.js";

/** A table cell: plain text, or text with a paint function applied after padding. */
export type Cell = string | { readonly text: string; readonly paint: (s: string) => string };

const NUMERIC_RE = /^-?[\d.]+%?$/;

/**
 * Columns separated by two spaces. A column whose cells below the first row are all numbers is
 * right-aligned (the first row may be a header); everything else is left-aligned.
 */
export function table(rows: readonly (readonly Cell[])[], indent = "  "): string {
  const text = (c: Cell) => (typeof c === "string" ? c : c.text);
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, text(c).length);
    });
  }
  const numeric = widths.map(
    (_, i) =>
      rows.length > 1 &&
      rows.slice(1).every((r) => {
        const c = r[i];
        return c === undefined || NUMERIC_RE.test(text(c));
      }),
  );
  return rows
    .map((row) =>
      row
        .map((c, i) => {
          const t = text(c);
          const w = widths[i] ?? 0;
          const padded = numeric[i] ? t.padStart(w) : i === row.length - 1 ? t : t.padEnd(w);
          return typeof c === "string" ? padded : c.paint(padded);
        })
        .join("  "),
    )
    .map((l) => `${indent}${l}`.trimEnd())
    .join("\n");
}

/** `12.3s`, `4m05s`, `2h03m`, `3d04h`. */
export function age(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return "-";
  if (sec < 60) return `${sec.toFixed(1)}s`;
  const s = Math.floor(sec);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, "0")}h`;
}

export function pctText(p: number | null): string {
  return p === null ? "-" : `${p.toFixed(1)}%`;
}

export function ttlText(ms: number | null): string {
  return ms === null ? "no TTL" : `TTL ${(ms / 1000).toFixed(1)}s`;
}

/** A key view as a header line plus indented decoded fields (or the raw value when it does not decode). */
export function keyViewText<T>(title: string, v: KeyView<T, unknown>, st: Style): string {
  if (!v.present) return `${st.bold(title)}: ${st.dim("absent")}  ${st.dim(v.key)}`;
  const head = `${st.bold(title)}: ${st.dim(`${v.key}  ${ttlText(v.ttlMs)}`)}`;
  if (v.decoded === null) {
    return `${head}\n  ${st.red(`does not decode: ${v.decodeError ?? "?"}`)}\n  raw: ${JSON.stringify(v.raw)}`;
  }
  const rows = Object.entries(v.decoded as Record<string, unknown>).map(([k, val]) => [
    k,
    typeof val === "string" ? val : JSON.stringify(val),
  ]);
  return `${head}\n${table(rows, "  ")}`;
}
