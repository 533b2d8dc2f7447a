import type { ApplyResult, AuditEntry, DeadLetter, P35Alert } from "@quantum/contracts";
import type { CloseResult } from "../commands/close.js";
import type { HoldResult } from "../commands/hold.js";
import type { LedgerAdoptResult } from "../commands/ledger.js";
import type { PositionsResult } from "../commands/positions.js";
import type { StreamListResult, StreamRow } from "../commands/stream-list.js";
import { age, type Cell, table } from "./format.js";
import type { Style } from "./style.js";

export function renderHold(r: HoldResult, st: Style): string {
  const was = r.previous === null ? "no hold" : `held (${r.previous})`;
  return r.hold === "on"
    ? `${st.yellow(st.bold(`reconcile hold ON for ${r.symbol}`))}: P3.3 denies its plans (was: ${was})`
    : `${st.green(st.bold(`reconcile hold OFF for ${r.symbol}`))} (was: ${was})`;
}

export function renderLedgerAdopt(r: LedgerAdoptResult, st: Style): string {
  const before = r.previous.decoded?.lastKnownAmt ?? (r.previous.present ? "(undecodable)" : "(none)");
  return (
    `ledger ${st.bold(r.symbol)}: last_known_amt ${before} -> ${st.bold(r.snapshotAmt)} ` +
    `(adopted from the exchange snapshot, ${age(r.snapshotAgeSec)} old; stale after ${r.staleThresholdSec}s)`
  );
}

function decisionPaint(decision: string, st: Style): (s: string) => string {
  return decision === "EXECUTE" ? st.green : decision === "SKIP" ? st.yellow : st.red;
}

export function renderClose(r: CloseResult, st: Style): string {
  const lines = [
    `close ${st.bold(r.symbol)}: ${r.action} proposed as plan ${st.bold(r.planId)} (mode ${r.mode}, proposal ${r.proposalId})`,
  ];
  if (r.result === null) {
    lines.push(
      r.resultId === null
        ? st.yellow(
            `no result within ${(r.waitedMs / 1000).toFixed(1)}s; see quantumctl results --symbol ${r.symbol}`,
          )
        : st.red(`result ${r.resultId} does not decode: ${r.resultDecodeError ?? "?"}`),
    );
    return lines.join("\n");
  }
  const res = r.result;
  const paint = decisionPaint(res.decision, st);
  lines.push(
    `${paint(st.bold(res.decision))}  reason ${res.reason}${res.detail === "" ? "" : `  (${res.detail})`}`,
  );
  if (res.executed) {
    lines.push(
      `  order ${res.clientOrderId ?? res.orderId ?? "?"}: ${res.side ?? "?"} ${res.executedQty ?? "?"} @ ${res.avgPrice ?? "?"}`,
    );
  }
  lines.push(st.dim(`  result ${r.resultId} after ${(r.waitedMs / 1000).toFixed(1)}s`));
  return lines.join("\n");
}

export function renderPositions(r: PositionsResult, st: Style): string {
  const rows: Cell[][] = [["SYMBOL", "EXCHANGE", "LEDGER", "DRIFT", "SNAPSHOT", "HOLD", "COOLDOWN"]];
  for (const p of r.rows) {
    const drifting = p.drift !== null && Number(p.drift) !== 0;
    rows.push([
      p.symbol,
      p.exchangeAmt ?? "-",
      p.ledgerAmt ?? "-",
      { text: p.drift ?? "-", paint: drifting ? st.yellow : (s) => s },
      {
        text: p.snapshotAgeSec === null ? "missing" : age(p.snapshotAgeSec),
        paint: p.stale ? st.red : (s) => s,
      },
      { text: p.hold === null ? "-" : "HOLD", paint: p.hold === null ? (s) => s : st.yellow },
      p.cooldownRemainingSec > 0 ? `${p.cooldownRemainingSec.toFixed(1)}s` : "-",
    ]);
  }
  const note = `symbols from ${r.symbols}; snapshot stale after ${r.timing.staleThresholdSec}s, cooldown ${r.timing.cooldownSec}s (${r.timing.source})`;
  return r.rows.length === 0 ? `no symbols (${note})` : `${table(rows, "")}\n${st.dim(note)}`;
}

/** A list as a table: one row per entry; entries that do not decode show their error. */
function listTable<T>(
  r: StreamListResult<T>,
  st: Style,
  header: readonly string[],
  cells: (v: T, row: StreamRow<T>) => Cell[],
): string {
  if (r.rows.length === 0) return st.dim(`${r.stream}: no entries`);
  const rows: Cell[][] = [["TIME", ...header]];
  for (const row of r.rows) {
    rows.push(
      row.value === null
        ? [row.at, { text: `does not decode: ${row.decodeError ?? "?"}`, paint: st.red }]
        : [row.at, ...cells(row.value, row)],
    );
  }
  return table(rows, "");
}

const short = (s: string, n = 60) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function renderResults(r: StreamListResult<ApplyResult>, st: Style): string {
  return listTable(r, st, ["SYMBOL", "PLAN", "DECISION", "REASON", "QTY", "DETAIL"], (v) => [
    v.symbol,
    v.planId,
    { text: v.decision, paint: decisionPaint(v.decision, st) },
    v.reason,
    v.executedQty ?? "-",
    short(v.detail),
  ]);
}

export function renderDeadLetters(r: StreamListResult<DeadLetter>, st: Style): string {
  return listTable(r, st, ["SERVICE", "FROM", "ID", "ERROR"], (v) => [
    v.service,
    v.stream,
    v.id,
    short(v.error, 80),
  ]);
}

export function renderAlerts(r: StreamListResult<P35Alert>, st: Style): string {
  return listTable(r, st, ["SEVERITY", "WINDOW", "REASON", "SHARE", "SCORE/TOTAL"], (v) => [
    { text: v.severity, paint: v.severity === "CRITICAL" ? st.red : st.yellow },
    v.window,
    v.reason,
    `${(v.share * 100).toFixed(1)}%`,
    `${v.score}/${v.total}`,
  ]);
}

export function renderAudit(r: StreamListResult<AuditEntry>, st: Style): string {
  return listTable(r, st, ["ACTOR", "COMMAND", "ARGS", "BEFORE", "AFTER", "REASON"], (v) => [
    { text: v.actor, paint: v.actor === "external" ? st.yellow : (s) => s },
    v.command,
    short(v.args, 40),
    short(v.before === "" ? "-" : v.before, 30),
    short(v.after === "" ? "-" : v.after, 30),
    short(v.reason === "" ? "-" : v.reason),
  ]);
}
