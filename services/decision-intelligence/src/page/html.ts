/** HTML building blocks of the status page: every value from Redis goes through `esc`. */

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Text escaped for HTML element content and double- or single-quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Escaped text in which `back-quoted` parts (commands in the action table) become <code>. */
export function withCode(text: string): string {
  return esc(text).replace(/`([^`]+)`/g, "<code>$1</code>");
}

/** "12 s", "4 min", "3 h", "2 d" (a no-break space keeps number and unit together); "—" when unknown. */
export function age(sec: number | null | undefined): string {
  if (sec === null || sec === undefined || !Number.isFinite(sec)) return "—";
  const nb = "\u00a0";
  if (sec < 1) return `<1${nb}s`;
  if (sec < 120) return `${Math.round(sec)}${nb}s`;
  if (sec < 7200) return `${Math.round(sec / 60)}${nb}min`;
  if (sec < 172_800) return `${Math.round(sec / 3600)}${nb}h`;
  return `${Math.round(sec / 86_400)}${nb}d`;
}

/** A table whose cells are already HTML. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], cls = ""): string {
  const th = head.map((h) => `<th>${esc(h)}</th>`).join("");
  const body = rows.map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join("")}</tr>`).join("");
  return `<div class="scroll"><table${cls === "" ? "" : ` class="${cls}"`}><thead><tr>${th}</tr></thead><tbody>${body}</tbody></table></div>`;
}

/** A section with a heading and an id (the page's anchors and the tests' handles). */
export function section(id: string, title: string, body: string): string {
  return `<section id="${esc(id)}"><h2>${esc(title)}</h2>${body}</section>`;
}

/** Headers of every page answer: nothing external may load, nothing may run. */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "Content-Security-Policy":
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
};

/** Seconds between the page's own reloads (meta refresh). */
export const PAGE_REFRESH_SEC = 10;

const CSS = `
*{box-sizing:border-box}
body{margin:0;padding:0 12px 24px;font:15px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b1f24;background:#f4f5f7;max-width:980px;margin-inline:auto}
h1{font-size:20px;margin:12px 0 4px}
h2{font-size:16px;margin:20px 0 8px;border-bottom:1px solid #d0d4da;padding-bottom:4px}
.banner{padding:12px;border-radius:8px;font-weight:600;font-size:17px;margin:8px 0}
.bad{background:#fde2e1;color:#8c1d18;border:1px solid #f3a6a1}
.ok{background:#dff4e4;color:#14532d;border:1px solid #9fd8ae}
.warn{background:#fff3cd;color:#6b4e00;border:1px solid #f0d58a}
.muted{color:#5b636d;font-size:13px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(280px,1fr));gap:10px}
.card{background:#fff;border:1px solid #d0d4da;border-radius:8px;padding:10px;overflow-wrap:anywhere}
.card.blocked{border-left:5px solid #d93025}
.card.clear{border-left:5px solid #2e7d32}
.card h3{margin:0 0 6px;font-size:16px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 10px;margin:0}
dt{color:#5b636d;font-size:13px}
dd{margin:0;font-size:14px}
.fix{margin-top:6px;padding:6px 8px;background:#eef3fb;border-radius:6px;font-size:14px}
.scroll{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;background:#fff;font-size:14px}
th,td{text-align:left;padding:5px 5px;border-bottom:1px solid #e3e6ea;vertical-align:top}
th{background:#eceef1;font-weight:600;font-size:13px}
code{font:13px ui-monospace,SFMono-Regular,Menlo,monospace;background:#eceef1;padding:1px 4px;border-radius:4px;overflow-wrap:anywhere}
ol,ul{padding-left:20px;margin:0}
li{margin:0 0 8px;overflow-wrap:anywhere}
.tag{display:inline-block;padding:0 6px;border-radius:10px;font-size:12px;font-weight:600;background:#eceef1}
.tag.BLOCKED,.tag.ERROR,.tag.HIGH,.tag.CRITICAL{background:#fde2e1;color:#8c1d18}
.tag.EXECUTE{background:#dff4e4;color:#14532d}
.tag.SKIP,.tag.MEDIUM{background:#fff3cd;color:#6b4e00}
`;

/** The whole document around a body. */
export function documentOf(title: string, body: string, refresh = true): string {
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    refresh ? `<meta http-equiv="refresh" content="${PAGE_REFRESH_SEC}">` : "",
    `<title>${esc(title)}</title><style>${CSS}</style></head>`,
    `<body>${body}</body></html>`,
  ].join("");
}
