import type { ModeResult, ServiceStatusRow } from "@quantum/insight";
import type { DurabilityReport } from "../commands/durability.js";
import type { KillSetResult, KillStatusResult } from "../commands/kill.js";
import type { StateSetResult, StateShowResult } from "../commands/state.js";
import { age, type Cell, table } from "./format.js";
import type { Style } from "./style.js";

export function durabilityLines(d: DurabilityReport, st: Style): string[] {
  const lines: string[] = [];
  const r = d.replicas;
  if (r.status === "no_replicas") lines.push(`replicas: none connected (role ${d.role}); WAIT not needed`);
  else if (r.status === "confirmed")
    lines.push(
      st.green(`replicas: WAIT confirmed ${r.acknowledged} of ${r.connected} within ${d.timeoutMs} ms`),
    );
  else
    lines.push(
      st.red(
        `replicas: WAIT only ${r.acknowledged ?? 0} of ${r.connected} acknowledged within ${d.timeoutMs} ms`,
      ),
    );
  const a = d.aof;
  if (a.status === "disabled") lines.push("aof: off (durability is whatever RDB/replication gives)");
  else if (a.status === "unsupported")
    lines.push(
      st.yellow(`aof: on; WAITAOF unsupported (Redis ${d.serverVersion} < 7.2): fsync not confirmed`),
    );
  else if (a.status === "confirmed")
    lines.push(st.green("aof: WAITAOF confirmed the write is fsynced locally"));
  else lines.push(st.red(`aof: WAITAOF did not confirm the fsync within ${d.timeoutMs} ms`));
  return lines;
}

export function renderKillSet(r: KillSetResult, st: Style): string {
  const head =
    r.switch === "on"
      ? st.red(st.bold("kill switch ON — trading halted"))
      : st.green(st.bold("kill switch OFF — trading allowed"));
  const lines = [
    head,
    `  written in one MULTI: value=${r.value} reason=${r.reason === null ? "(cleared)" : JSON.stringify(r.reason)} by=${r.by} at=${r.atIso ?? r.at}`,
    `  was: ${r.previous ?? "(missing)"}; read back: ${r.readBack.value ?? "(missing)"} -> ${r.readBack.halted ? "halted" : "allowed"}`,
    ...durabilityLines(r.durability, st).map((l) => `  ${l}`),
  ];
  const f = r.inFlight;
  if (f !== null) {
    if (f.atSwitch.length === 0) lines.push("  orders in flight at the switch: none; no order can start now");
    else if (f.drained) {
      lines.push(
        `  orders in flight at the switch: ${f.atSwitch.length}, all settled after ${f.waitedMs} ms; no order can start now`,
      );
    } else {
      lines.push(
        st.red(
          `  orders still in flight after ${f.waitedMs} ms: ${f.remaining.join(", ")} (sent before the switch; check the venue)`,
        ),
      );
    }
  }
  return lines.join("\n");
}

export function renderKillStatus(r: KillStatusResult, st: Style): string {
  const head = r.halted
    ? st.red(st.bold("kill switch ON — trading halted"))
    : st.green(st.bold("kill switch OFF — trading allowed"));
  const rows: Cell[][] = [
    ["value", r.value === null ? "(key missing)" : JSON.stringify(r.value)],
    ["mode", `${r.mode} (${r.modeSource})`],
    ["reason", r.reason ?? "-"],
    ["by", r.by ?? "-"],
    ["at", r.atIso ?? r.at ?? "-"],
  ];
  return `${head}  ${r.explanation}\n${table(rows)}`;
}

export function renderStateShow(r: StateShowResult, st: Style): string {
  const paint = r.halted ? st.red : r.state === "REDUCE_ONLY" ? st.yellow : st.green;
  const who =
    r.by === null
      ? ""
      : `\n  set by ${r.by}${r.atIso === null ? "" : ` at ${r.atIso}`}${r.reason === null ? "" : `: ${r.reason}`}`;
  return `trading state: ${paint(st.bold(r.state))}  ${r.explanation}${who}`;
}

export function renderStateSet(r: StateSetResult, st: Style): string {
  return `trading state: ${r.previous.state} -> ${st.bold(r.state)}`;
}

export function serviceRows(services: readonly ServiceStatusRow[], st: Style): Cell[][] {
  const rows: Cell[][] = [["SERVICE", "STATE", "MODE", "VENUE", "PID", "HOST", "PORT", "HEARTBEAT"]];
  for (const s of services) {
    const paint = s.state === "running" ? st.green : s.state === "stale" ? st.yellow : st.red;
    rows.push([
      s.service,
      { text: s.state, paint },
      s.mode ?? "-",
      s.venue ?? "-",
      s.pid === null ? "-" : String(s.pid),
      s.hostname ?? "-",
      s.metricsPort === null ? "-" : String(s.metricsPort),
      s.heartbeatAgeSec === null ? "-" : `${age(s.heartbeatAgeSec)} ago`,
    ]);
  }
  return rows;
}

export function renderMode(r: ModeResult, st: Style): string {
  return `${table(serviceRows(r.services, st), "")}\n${st.dim(`(stale = no heartbeat for more than ${r.staleAfterSec}s)`)}`;
}
