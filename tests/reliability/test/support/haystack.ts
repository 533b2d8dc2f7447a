import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import type { Redis } from "ioredis";
import { ENTRIES } from "./system.js";

/** Every key of a database, dumped as text by type (streams entry by entry). */
export async function dumpKeyspace(r: Redis): Promise<string> {
  const parts: string[] = [];
  let cursor = "0";
  do {
    const [next, found] = await r.scan(cursor, "COUNT", 1000);
    cursor = next;
    for (const key of found) {
      const type = await r.type(key);
      let value: unknown;
      switch (type) {
        case "string":
          value = await r.get(key);
          break;
        case "hash":
          value = await r.hgetall(key);
          break;
        case "list":
          value = await r.lrange(key, 0, -1);
          break;
        case "set":
          value = await r.smembers(key);
          break;
        case "zset":
          value = await r.zrange(key, 0, -1, "WITHSCORES");
          break;
        case "stream":
          value = await r.xrange(key, "-", "+");
          break;
        default:
          value = `(${type})`;
      }
      parts.push(`${key} ${JSON.stringify(value)}`);
    }
  } while (cursor !== "0");
  return parts.join("\n");
}

/** Where each needle occurs in the haystack, with some context (empty when none does). */
export function findSecrets(haystack: string, needles: readonly string[]): string[] {
  const out: string[] = [];
  for (const n of needles) {
    let i = haystack.indexOf(n);
    while (i >= 0 && out.length < 20) {
      out.push(`${n.slice(0, 6)}… at ${i}: ${haystack.slice(Math.max(0, i - 80), i + n.length + 40)}`);
      i = haystack.indexOf(n, i + n.length);
    }
  }
  return out;
}

/** Run quantumctl; resolves with its exit code and output. */
export function quantumctl(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [ENTRIES.cli, ...args],
      { env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err === null ? 0 : typeof err.code === "number" ? err.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Addresses listening on a TCP port, from /proc/net/tcp and /proc/net/tcp6 ("127.0.0.1", "0.0.0.0", "::"...). */
export function listenAddresses(port: number): string[] {
  const out: string[] = [];
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const cols = line.trim().split(/\s+/);
      const [addr, p] = (cols[1] ?? "").split(":");
      if (p !== hexPort || cols[3] !== "0A" || addr === undefined) continue; // 0A = LISTEN
      out.push(file.endsWith("6") ? ipv6(addr) : ipv4(addr));
    }
  }
  return out;
}

function ipv4(hex: string): string {
  const bytes = (hex.match(/../g) ?? []).map((b) => Number.parseInt(b, 16)).reverse();
  return bytes.join(".");
}

function ipv6(hex: string): string {
  if (/^0+$/.test(hex)) return "::";
  if (hex === "00000000000000000000000001000000") return "::1";
  if (hex.startsWith("0000000000000000FFFF0000")) return `::ffff:${ipv4(hex.slice(24))}`;
  return hex;
}
