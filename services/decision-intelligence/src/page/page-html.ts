import type { ReasonAdvice, SymbolRow, WhyNotTrading } from "@quantum/insight";
import { age, documentOf, esc, PAGE_REFRESH_SEC, section, table, withCode } from "./html.js";

export const PAGE_TITLE = "Why are we not trading?";
const DECISION_COLUMNS = ["EXECUTE", "SKIP", "BLOCKED", "ERROR"] as const;

function tag(value: string | null): string {
  return value === null ? "—" : `<span class="tag ${esc(value)}">${esc(value)}</span>`;
}

function fix(advice: ReasonAdvice | null): string {
  if (advice === null) return "";
  return `<div class="fix"><b>Fix:</b> <span class="action">${withCode(advice.action)}</span><br><span class="muted">${withCode(advice.meaning)} Diagnose: ${withCode(advice.diagnose)}</span></div>`;
}

function controls(m: WhyNotTrading): string {
  const k = m.killSwitch;
  const kill = `<div class="card ${k.halted ? "blocked" : "clear"}" id="kill-switch"><h3>Kill switch ${
    k.halted ? "ON — trading halted" : "OFF — trading allowed"
  }</h3><dl><dt>value</dt><dd>${k.value === null ? `missing (judged in ${esc(k.mode)})` : `<code>${esc(k.value)}</code>`}</dd><dt>by</dt><dd>${esc(
    k.by ?? "—",
  )}</dd><dt>reason</dt><dd class="kill-reason">${esc(k.reason ?? "—")}</dd><dt>at</dt><dd>${esc(
    k.atIso ?? "—",
  )}</dd></dl>${fix(k.advice)}</div>`;
  const t = m.tradingState;
  const state = `<div class="card ${t.state === "ACTIVE" ? "clear" : "blocked"}" id="trading-state"><h3>Trading state ${esc(
    t.state,
  )}</h3><dl><dt>value</dt><dd>${t.value === null ? "missing (ACTIVE)" : `<code>${esc(t.value)}</code>`}</dd></dl>${fix(
    t.advice,
  )}</div>`;
  return section("controls", "Kill switch and trading state", `<div class="cards">${kill}${state}</div>`);
}

function services(m: WhyNotTrading): string {
  const rows = m.services.map((s) => [
    esc(s.service),
    `<span class="tag ${s.state === "running" ? "EXECUTE" : "BLOCKED"}">${esc(s.state)}</span>`,
    `${esc(s.mode ?? "—")} / ${esc(s.venue ?? "—")}`,
    esc(age(s.heartbeatAgeSec)),
  ]);
  return section("services", "Services", table(["service", "health", "mode / venue", "heartbeat"], rows));
}

function windows(m: WhyNotTrading): string {
  const isOther = (d: string) => !(DECISION_COLUMNS as readonly string[]).includes(d);
  // Decisions other than the four (UNKNOWN from other producers) get a column only when there are any.
  const anyOther = m.windows.some((w) => w.decisions.some((x) => isOther(x.decision)));
  const rows = m.windows.map((w) => {
    const pctOf = (d: string) => {
      const row = w.decisions.find((x) => x.decision === d);
      return row === undefined ? "0" : `${row.pct}%`;
    };
    const other = w.decisions
      .filter((x) => isOther(x.decision))
      .map((x) => `${esc(x.decision)} ${x.pct}%`)
      .join(", ");
    const cells = [esc(w.window), String(w.total), ...DECISION_COLUMNS.map((d) => esc(pctOf(d)))];
    return anyOther ? [...cells, other === "" ? "—" : other] : cells;
  });
  const head = ["window", "results", "EXEC", "SKIP", "BLOCK", "ERR", ...(anyOther ? ["other"] : [])];
  const p35 = m.p35;
  const fresh = p35.present
    ? `<p class="muted">P3.5 processed ${esc(p35.processedTotal ?? 0)} results; newest ${esc(age(p35.lastAgeSec))} ago.</p>`
    : `<p class="muted">P3.5 has not written its status yet.</p>`;
  return section("windows", "Decision mix", table(head, rows) + fresh);
}

function topReasons(m: WhyNotTrading): string {
  if (m.topReasons.length === 0)
    return section("reasons", "Top reasons (5m)", "<p>No results in the last 5 minutes.</p>");
  const items = m.topReasons.map(
    (r) =>
      `<li data-reason="${esc(r.reason)}"><code>${esc(r.reason)}</code> — ${r.score} (${r.pct}%)${
        r.success ? ' <span class="muted">success</span>' : fix(r.advice)
      }</li>`,
  );
  return section("reasons", "Top reasons (5m)", `<ol>${items.join("")}</ol>`);
}

function symbolCard(s: SymbolRow & { readonly advice: ReasonAdvice | null }): string {
  const last = s.lastResult;
  const lastText =
    last === null
      ? "—"
      : `${tag(last.decision)} <code>${esc(last.reason ?? "—")}</code> ${esc(age(last.ageSec))} ago${
          last.detail === null ? "" : `<br><span class="muted">${esc(last.detail.slice(0, 160))}</span>`
        }`;
  const gate =
    s.topGate === null ? "—" : `<code>${esc(s.topGate.reason)}</code> ${s.topGate.score}/${s.recentTotal}`;
  const drift =
    s.drift === null
      ? "—"
      : `${esc(s.drift)}${s.mismatchSince !== null ? ` <span class="tag BLOCKED">drift</span>` : ""}`;
  const cooldown =
    s.cooldownRemainingSec === null
      ? s.lastFillAgeSec === null
        ? "—"
        : `last fill ${esc(age(s.lastFillAgeSec))} ago`
      : s.cooldownRemainingSec > 0
        ? `${esc(age(s.cooldownRemainingSec))} left`
        : "over";
  const blocker =
    s.blocker === null
      ? ""
      : `<p class="blocker"><b>Blocked by</b> <code class="blocker-reason">${esc(s.blocker.reason)}</code> <span class="muted">(${esc(
          s.blocker.source.replace("_", " "),
        )})</span></p>`;
  return `<article class="card ${s.blocker === null ? "clear" : "blocked"}" data-symbol="${esc(s.symbol)}"><h3>${esc(
    s.symbol,
  )}</h3>${blocker}<dl><dt>last result</dt><dd>${lastText}</dd><dt>top gate 5m</dt><dd>${gate}</dd><dt>exchange</dt><dd>${esc(
    s.exchangeAmt ?? "—",
  )}</dd><dt>ledger</dt><dd>${esc(s.ledgerAmt ?? "—")}</dd><dt>drift</dt><dd>${drift}</dd><dt>snapshot</dt><dd>${esc(
    age(s.snapshotAgeSec),
  )} old</dd><dt>hold</dt><dd>${s.hold === null ? "no" : `<b>yes</b> <code>${esc(s.hold)}</code>`}</dd><dt>cooldown</dt><dd>${cooldown}</dd></dl>${fix(
    s.advice,
  )}</article>`;
}

function symbols(m: WhyNotTrading): string {
  const body =
    m.symbols.length === 0
      ? "<p>No symbols seen (no snapshots, no recent results).</p>"
      : `<div class="cards">${m.symbols.map(symbolCard).join("")}</div>`;
  return section("symbols", "Symbols", body);
}

function recentResults(m: WhyNotTrading): string {
  const rows = m.recentResults.map((r) => [
    esc(age(r.ageSec)),
    esc(r.symbol ?? "—"),
    tag(r.decision),
    `<code>${esc(r.reason ?? "—")}</code>`,
  ]);
  const body =
    rows.length === 0 ? "<p>No results yet.</p>" : table(["age", "symbol", "decision", "reason"], rows);
  return section("results", "Recent results", body);
}

function alerts(m: WhyNotTrading): string {
  const items = m.alerts.map(
    (a) =>
      `<li>${tag(a.severity)} <code>${esc(a.reason ?? "—")}</code> share ${esc(a.share ?? "—")} of ${esc(
        a.window ?? "—",
      )}, ${esc(age(a.ageSec))} ago</li>`,
  );
  return section(
    "alerts",
    "Alerts (last hour)",
    items.length === 0 ? "<p>None.</p>" : `<ul>${items.join("")}</ul>`,
  );
}

function deadLetters(m: WhyNotTrading): string {
  const items = m.deadLetters.newest.map(
    (d) =>
      `<li><code>${esc(d.service ?? "—")}</code> on <code>${esc(d.stream ?? "—")}</code> ${esc(
        age(d.ageSec),
      )} ago: ${esc(d.error ?? "—")}</li>`,
  );
  const head = `<p>${m.deadLetters.total} in <code>quantum:stream:deadletter</code>${
    m.deadLetters.total > 0
      ? " — inspect with <code>redis-cli XREVRANGE quantum:stream:deadletter + - COUNT 10</code>"
      : ""
  }.</p>`;
  return section(
    "dead-letters",
    "Dead letters",
    head + (items.length === 0 ? "" : `<ul>${items.join("")}</ul>`),
  );
}

/** The page: the answer first, then the controls, services, windows, reasons, symbols and streams. */
export function renderWhyNotTrading(m: WhyNotTrading): string {
  const banner = `<div class="banner ${m.headline.trading ? (m.symbols.some((s) => s.blocker !== null) ? "warn" : "ok") : "bad"}" id="headline">${esc(
    m.headline.text,
  )}</div>`;
  const body = [
    `<h1>${esc(PAGE_TITLE)}</h1>`,
    banner,
    controls(m),
    symbols(m),
    topReasons(m),
    windows(m),
    services(m),
    recentResults(m),
    alerts(m),
    deadLetters(m),
    `<p class="muted">Read ${esc(m.atIso ?? "")}; reloads every ${PAGE_REFRESH_SEC} s. Same facts: <a href="/status.json">status.json</a>.</p>`,
  ].join("");
  return documentOf(PAGE_TITLE, body);
}

/** The page when Redis does not answer: says so instead of showing numbers it cannot read. */
export function renderUnreachable(detail: string, atIso: string): string {
  const body = `<h1>${esc(PAGE_TITLE)}</h1><div class="banner bad" id="headline">Redis unreachable — the state of trading is unknown</div><p>P3.5 could not read Redis: <code>${esc(
    detail,
  )}</code></p><p>Nothing can trade without Redis (permits and the kill switch live there). Check <code>redis-cli ping</code> and <code>quantumctl health</code>; see the runbook, section RedisUnreachable.</p><p class="muted">Tried ${esc(
    atIso,
  )}; reloads every ${PAGE_REFRESH_SEC} s.</p>`;
  return documentOf(`${PAGE_TITLE} — Redis unreachable`, body);
}
