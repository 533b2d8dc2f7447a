import { readFileSync } from "node:fs";
import { repoPath } from "./helpers.js";

/** The three services: unit name, code directory, env file name, default metrics port and its variable. */
export const SERVICES = [
  {
    unit: "quantum-apply-layer",
    dir: "apply-layer",
    env: "apply-layer",
    port: 8000,
    portVar: "PROMETHEUS_PORT",
  },
  {
    unit: "quantum-position-state-brain",
    dir: "position-state-brain",
    env: "position-state-brain",
    port: 8045,
    portVar: "P33_METRICS_PORT",
  },
  {
    unit: "quantum-p35-decision-intelligence",
    dir: "decision-intelligence",
    env: "p35-decision-intelligence",
    port: 8046,
    portVar: "P35_METRICS_PORT",
  },
] as const;

export const TARGET = "quantum-p3.target";
export const unitPath = (file: string): string => repoPath("etc/systemd/system", file);

/** A unit file as section -> key -> values (a key may repeat). Comments and blank lines are skipped. */
export type UnitFile = Map<string, Map<string, string[]>>;

export function parseUnit(text: string): UnitFile {
  const unit: UnitFile = new Map();
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec !== null) {
      section = sec[1] as string;
      if (!unit.has(section)) unit.set(section, new Map());
      continue;
    }
    const eq = line.indexOf("=");
    if (eq < 0) throw new Error(`not a key=value line: ${line}`);
    const key = line.slice(0, eq).trim();
    const value = line.slice(eq + 1).trim();
    const sectionMap = unit.get(section);
    if (sectionMap === undefined) throw new Error(`key outside a section: ${line}`);
    sectionMap.set(key, [...(sectionMap.get(key) ?? []), value]);
  }
  return unit;
}

export function readUnit(file: string): UnitFile {
  return parseUnit(readFileSync(unitPath(file), "utf8"));
}

/** All values of a key in a section ([] when absent). */
export function values(unit: UnitFile, section: string, key: string): string[] {
  return unit.get(section)?.get(key) ?? [];
}

/** The single value of a key; throws when it is absent or repeated. */
export function value(unit: UnitFile, section: string, key: string): string {
  const v = values(unit, section, key);
  if (v.length !== 1) throw new Error(`[${section}] ${key}: expected one value, found ${v.length}`);
  return v[0] as string;
}
