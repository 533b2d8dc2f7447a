/** Small PromQL helpers for checking expressions in alert rules and dashboards against exported metrics. */

const PROMQL_WORDS = new Set(["and", "or", "unless", "bool", "offset", "inf", "nan"]);
const GROUPING = /\b(by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g;

/**
 * Metric names referenced by a PromQL expression, as written (a histogram's `_bucket` stays `_bucket`).
 * Strings, label matchers, ranges, grouping clauses and function names are removed first.
 */
export function promqlMetricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, " ")
    .replace(/\[[^\]]*\]/g, " ")
    .replace(GROUPING, " ")
    .replace(/\b(group_left|group_right)\b/g, " ");
  const names = new Set<string>();
  for (const m of stripped.matchAll(/(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\s*\()?/g)) {
    const word = m[1] as string;
    if (m[2] !== undefined || PROMQL_WORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return [...names];
}

export interface LabelMatcher {
  name: string;
  op: "=" | "!=" | "=~" | "!~";
  value: string;
}

/** Every `metric{...}` selector of an expression with its label matchers. */
export function promqlSelectors(expr: string): Array<{ metric: string; matchers: LabelMatcher[] }> {
  const out: Array<{ metric: string; matchers: LabelMatcher[] }> = [];
  for (const sel of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const matchers: LabelMatcher[] = [];
    for (const m of (sel[2] as string).matchAll(
      /([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*"((?:[^"\\]|\\.)*)"/g,
    )) {
      matchers.push({ name: m[1] as string, op: m[2] as LabelMatcher["op"], value: m[3] as string });
    }
    out.push({ metric: sel[1] as string, matchers });
  }
  return out;
}

/** Label names of `by (...)` / `without (...)` / `on (...)` / `ignoring (...)` clauses. */
export function promqlGroupingLabels(expr: string): string[] {
  const out = new Set<string>();
  for (const m of expr.matchAll(GROUPING)) {
    for (const label of (m[2] as string).split(",").map((s) => s.trim())) if (label !== "") out.add(label);
  }
  return [...out];
}

/** A Prometheus text exposition as family name -> label names seen on its samples. */
export interface ScrapedFamilies {
  /** Family names from `# TYPE`, plus `_bucket`/`_sum`/`_count` of histograms (and `_sum`/`_count` of summaries). */
  names: Set<string>;
  /** Sample name (e.g. `x_bucket`) -> label names seen on its samples; absent while it has no sample. */
  labels: Map<string, Set<string>>;
}

export function parseExposition(text: string): ScrapedFamilies {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split("\n")) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)/.exec(line);
    if (type !== null) {
      const [, name = "", kind] = type;
      const series =
        kind === "histogram"
          ? [`${name}_bucket`, `${name}_sum`, `${name}_count`]
          : kind === "summary"
            ? [name, `${name}_sum`, `${name}_count`]
            : [name];
      for (const s of series) names.add(s);
      continue;
    }
    if (line.startsWith("#") || line.trim() === "") continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (sample === null) continue;
    const name = sample[1] as string;
    names.add(name);
    const set = labels.get(name) ?? new Set<string>();
    for (const m of (sample[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(m[1] as string);
    labels.set(name, set);
  }
  return { names, labels };
}
