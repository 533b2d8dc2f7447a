/** The command-line flag that makes a service validate its configuration and exit (see reportConfigCheck). */
export const CHECK_CONFIG_FLAG = "--check-config";

/** True when the service was started with --check-config. */
export function wantsConfigCheck(argv: readonly string[] = process.argv.slice(2)): boolean {
  return argv.includes(CHECK_CONFIG_FLAG);
}

/** Exit code of a configuration that does not validate (the service opened no connection). */
export const EXIT_CONFIG_INVALID = 2;

/**
 * The outcome of --check-config: "configuration OK" on stdout and 0, or every problem on stderr (one line each)
 * and EXIT_CONFIG_INVALID. The service calls it after validating and before opening any connection.
 */
export function reportConfigCheck(
  service: string,
  problems: readonly string[],
  out: { write(s: string): unknown } = process.stdout,
  err: { write(s: string): unknown } = process.stderr,
): number {
  if (problems.length === 0) {
    out.write(`${service}: configuration OK\n`);
    return 0;
  }
  const n = problems.length;
  err.write(
    `${service}: invalid configuration (${n} problem${n === 1 ? "" : "s"}):\n${problems.map((p) => `  - ${p}\n`).join("")}`,
  );
  return EXIT_CONFIG_INVALID;
}
