import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { ALL_KNOWN_REASONS, groups, keyPatterns, keys, streams } from "@quantum/contracts";
import { describe, expect, it } from "vitest";
import { headingAnchors, readRepoFile, repoPath } from "./helpers.js";

const REQUIRED_DOCS = [
  "docs/architecture.md",
  "docs/operations/runbook.md",
  "docs/operations/production-checklist.md",
  "docs/operations/p35-action-mapping.md",
  "docs/operations/systemd.md",
  "docs/operations/deploy.md",
];

function filesUnder(dir: string, suffixes: string[]): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const abs = join(dir, name);
    if (statSync(abs).isDirectory()) return filesUnder(abs, suffixes);
    return suffixes.some((s) => name.endsWith(s)) ? [abs] : [];
  });
}

const markdownFiles = (): string[] => filesUnder(repoPath("docs"), [".md"]);
/** Operator-facing text that names Redis keys: docs, env examples, alert rules, ops scripts. */
const operatorFiles = (): string[] => [
  ...markdownFiles(),
  ...filesUnder(repoPath("etc/quantum"), [".example"]),
  ...filesUnder(repoPath("ops/prometheus"), [".yml"]),
  ...readdirSync(repoPath("ops"))
    .filter((n) => n.endsWith(".sh"))
    .map((n) => repoPath("ops", n)),
];

/** Every key, stream and pattern of @quantum/contracts as a regex; a placeholder matches `<x>`, `*`, a symbol. */
function keyTemplates(withPatterns = true): Array<{ template: string; re: RegExp }> {
  const HOLE = "\u0000";
  const rendered: string[] = [
    ...Object.values(streams),
    ...(withPatterns ? Object.values(keyPatterns) : []),
    ...Object.values(keys).map((k) =>
      typeof k === "function" ? (k as (...a: string[]) => string)(HOLE, HOLE) : k,
    ),
  ];
  return rendered.map((t) => {
    const escaped = t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replaceAll(HOLE, "[A-Za-z0-9_<>*.$-]+");
    return { template: t.replaceAll(HOLE, "<…>"), re: new RegExp(`^${escaped}$`) };
  });
}

function keyTokens(text: string): string[] {
  return [...text.matchAll(/quantum:[A-Za-z0-9_:.<>*$-]+/g)].map((m) => m[0].replace(/[.:,]+$/, ""));
}

/** Text inside fenced code blocks and inline code spans. */
function codeOf(markdown: string): string[] {
  const fenced = [...markdown.matchAll(/```[a-z]*\n([\s\S]*?)```/g)].map((m) => m[1] as string);
  const withoutFences = markdown.replace(/```[\s\S]*?```/g, "");
  const inline = [...withoutFences.matchAll(/`([^`\n]+)`/g)].map((m) => m[1] as string);
  return [...fenced, ...inline];
}

/** quantumctl's commands. */
const CLI: Record<string, string[] | null> = {
  kill: ["on", "off", "status"],
  state: ["set", "show"],
  mode: null,
  permit: ["show", "grant"],
  ledger: ["show", "set", "adopt"],
  position: null,
  positions: null,
  hold: ["on", "off"],
  close: null,
  results: null,
  deadletters: null,
  alerts: null,
  audit: null,
  dashboard: ["a", "b", "c", "d", "e", "all"],
  health: null,
  status: null,
  trend: null,
};

describe("docs", () => {
  it.each(REQUIRED_DOCS)("%s exists", (doc) => {
    expect(existsSync(repoPath(doc))).toBe(true);
  });

  it("has no broken relative link or anchor", () => {
    for (const file of markdownFiles()) {
      const text = readFileSync(file, "utf8");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1] as string;
        if (/^[a-z]+:/.test(link)) continue;
        const [path = "", anchor] = link.split("#");
        const target = path === "" ? file : join(dirname(file), path);
        const where = `${relative(repoPath(), file)} -> ${link}`;
        expect(existsSync(target), where).toBe(true);
        if (anchor !== undefined && anchor !== "") {
          expect(headingAnchors(readFileSync(target, "utf8")), where).toContain(anchor);
        }
      }
    }
  });

  it("names only Redis keys and streams that exist in @quantum/contracts", () => {
    const templates = keyTemplates();
    for (const file of operatorFiles()) {
      for (const token of keyTokens(readFileSync(file, "utf8"))) {
        const ok = templates.some((t) => t.re.test(token));
        expect(ok, `${relative(repoPath(), file)} mentions unknown key ${token}`).toBe(true);
      }
    }
  });

  it("the key check rejects key names the system does not have", () => {
    const templates = keyTemplates();
    for (const bad of [
      "quantum:p33:symbol:BTCUSDT:permit",
      "quantum:apply:dedupe:abc",
      "quantum:killswitch",
    ]) {
      expect(
        templates.some((t) => t.re.test(bad)),
        bad,
      ).toBe(false);
    }
  });

  it("architecture.md names every stream, consumer group and key", () => {
    const text = readRepoFile("docs/architecture.md");
    const tokens = keyTokens(text);
    for (const s of Object.values(streams)) expect(text, s).toContain(s);
    for (const g of Object.values(groups)) expect(text, g).toContain(`\`${g}\``);
    for (const t of keyTemplates(false)) {
      expect(
        tokens.some((tok) => t.re.test(tok)),
        `architecture.md mentions ${t.template}`,
      ).toBe(true);
    }
  });

  it("p35-action-mapping.md has a row for every reason code the system can write", () => {
    const text = readRepoFile("docs/operations/p35-action-mapping.md");
    for (const reason of ALL_KNOWN_REASONS) {
      expect(text, reason).toMatch(
        new RegExp(`^\\| \`${reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\`\\s*\\|`, "m"),
      );
    }
  });

  it("uses quantumctl only with commands it has", () => {
    let seen = 0;
    for (const file of markdownFiles()) {
      for (const snippet of codeOf(readFileSync(file, "utf8"))) {
        for (const m of snippet.matchAll(
          /(?<![\w/.-])quantumctl[ \t]+([a-z]+)(?:[ \t]+([^\s`]+))?(?:[ \t]+([^\n`]*))?/g,
        )) {
          const [, cmd = "", sub, rest = ""] = m;
          const where = `${relative(repoPath(), file)}: ${m[0]}`;
          expect(Object.keys(CLI), where).toContain(cmd);
          const subs = CLI[cmd];
          if (subs !== null && subs !== undefined && sub !== undefined && !/^[<$"-]/.test(sub)) {
            expect(subs, where).toContain(sub.split("/")[0]);
          }
          if (cmd === "kill" && sub === "on") expect(rest, where).toMatch(/--reason /);
          if (cmd === "hold" && sub === "on") expect(rest, where).toMatch(/--reason /);
          if (cmd === "state" && sub === "set") expect(rest, where).toMatch(/^(ACTIVE|REDUCE_ONLY|HALTED)\b/);
          seen += 1;
        }
      }
    }
    expect(seen).toBeGreaterThan(20);
  });

  it("the runbook covers emergency stop, resume, ledger reconciliation and permit timeouts", () => {
    const anchors = headingAnchors(readRepoFile("docs/operations/runbook.md"));
    for (const a of ["emergency-stop", "resume", "reconcile-a-ledger", "permit-timeouts"]) {
      expect(anchors, a).toContain(a);
    }
    const text = readRepoFile("docs/operations/runbook.md");
    expect(text).toContain(`redis-cli MSET ${keys.killSwitch} true`);
    expect(text).toContain(`redis-cli SET ${keys.killSwitch} false`);
    expect(text).toMatch(/quantumctl ledger set BTCUSDT -?\d/);
  });
});
