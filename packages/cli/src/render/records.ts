import type { LedgerSetResult, LedgerShowResult, PositionResult } from "../commands/ledger.js";
import type { PermitGrantResult, PermitShowResult } from "../commands/permit.js";
import { age, keyViewText } from "./format.js";
import type { Style } from "./style.js";

export function renderPermitShow(r: PermitShowResult, st: Style): string {
  return [
    `plan ${st.bold(r.planId)}`,
    keyViewText("governor permit", r.governorPermit, st),
    keyViewText("p33 permit", r.p33Permit, st),
    keyViewText("governor block", r.governorBlock, st),
    keyViewText("execution record", r.execRecord, st),
  ].join("\n");
}

export function renderPermitGrant(r: PermitGrantResult, st: Style): string {
  const lines = [
    st.green(`governor permit granted for plan ${r.planId}`),
    `  key ${r.key}  EX ${r.ttlSec}s`,
    `  symbol ${r.permit.symbol} (from ${r.symbolSource})  computed_qty ${r.permit.computedQty ?? "null"}`,
  ];
  if (r.replaced !== null) lines.push(st.yellow("  replaced an existing permit"));
  for (const w of r.warnings) lines.push(st.yellow(`  warning: ${w}`));
  return lines.join("\n");
}

export function renderLedgerShow(r: LedgerShowResult, st: Style): string {
  return keyViewText(`ledger ${r.symbol}`, r.ledger, st);
}

export function renderLedgerSet(r: LedgerSetResult, st: Style): string {
  const before = r.previous.decoded?.lastKnownAmt ?? (r.previous.present ? "(undecodable)" : "(none)");
  return `ledger ${st.bold(r.symbol)}: last_known_amt ${before} -> ${st.bold(r.written.last_known_amt ?? "?")} (source=operator)`;
}

export function renderPosition(r: PositionResult, st: Style): string {
  const lines = [`position ${st.bold(r.symbol)}`];
  lines.push(keyViewText("exchange snapshot", r.snapshot, st));
  if (r.snapshotAgeSec !== null) lines.push(`  snapshot age ${age(r.snapshotAgeSec)}`);
  lines.push(keyViewText("ledger", r.ledger, st));
  lines.push(keyViewText("operator view", r.view, st));
  lines.push(keyViewText("paper position", r.paper, st));
  if (r.drift !== null) {
    const zero = Number(r.drift.diff) === 0;
    const text = `exchange ${r.drift.exchangeAmt} - ledger ${r.drift.ledgerAmt} = ${r.drift.diff}`;
    lines.push(`drift: ${zero ? st.green(text) : st.yellow(text)}`);
  }
  return lines.join("\n");
}
