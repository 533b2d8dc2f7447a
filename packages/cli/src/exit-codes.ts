/**
 * quantumctl exit codes, the same for every command:
 * 0 ok; 1 operational failure (Redis unreachable, a write that failed); 2 usage error or refused request;
 * 3 "condition found" for the commands that check something (documented per command in EXIT_CODE_HELP);
 * 4 a wait timed out (`close`: no result within --timeout).
 */
export const EXIT = { ok: 0, failure: 1, usage: 2, condition: 3, timeout: 4 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Per-command meaning of exit code 3 (shown by `quantumctl --help` and in the README). */
export const EXIT_CODE_HELP = `Exit codes:
  0  ok
  1  operational failure (Redis unreachable, a write or read that failed)
  2  usage error, or a refused request (nothing written): a missing subcommand, an unknown or malformed
     symbol, a malformed amount, permit grant unless a live service reports a non-production mode,
     kill on / hold on without --reason, close without --reason in production, ledger adopt of a
     missing or stale snapshot
  3  condition found:
       kill status         the kill switch is ON, trading halted (0 = OFF, trading allowed)
       kill on             the switch is on but a durability confirmation fell short (replica WAIT, WAITAOF)
       state show          trading state is HALTED (or an unknown value, which halts)
       health              a service /health is not 200 (1 when Redis itself is unreachable)
       dashboard d         at least one gate is above the threshold
       dashboard e         a service /health is not 200, or the P3.5 status hash is missing
       dashboard all       d or e found a condition
       close               the plan ended BLOCKED, SKIP or ERROR (its reason is printed; 0 = EXECUTE)
  4  timeout:
       close               no result within --timeout (the proposal was written; see quantumctl results)`;
