/**
 * Run a service's `main` and exit the process with the code it resolves to. A throw that escapes `main` (a
 * programming error: start-up refusals resolve to a code) prints `<service>: fatal: <stack>` on stderr and
 * exits 1.
 */
export function runMain(service: string, main: () => Promise<number>): void {
  main().then(
    (code) => process.exit(code),
    (err: unknown) => {
      const text = err instanceof Error ? (err.stack ?? err.message) : String(err);
      process.stderr.write(`${service}: fatal: ${text}\n`);
      process.exit(1);
    },
  );
}
