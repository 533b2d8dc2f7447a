import { hostname, userInfo } from "node:os";
import { runCli } from "./program.js";
import type { CliIo } from "./run.js";

function actor(): string {
  let user = process.env.SUDO_USER ?? process.env.USER ?? "";
  if (user === "") {
    try {
      user = userInfo().username;
    } catch {
      user = "unknown";
    }
  }
  return `${user}@${hostname()}`;
}

const io: CliIo = {
  stdout: (s) => process.stdout.write(s),
  stderr: (s) => process.stderr.write(s),
  env: process.env,
  isTTY: process.stdout.isTTY === true,
  defaultActor: actor(),
  onInterrupt(handler) {
    process.on("SIGINT", handler);
    process.on("SIGTERM", handler);
    return () => {
      process.off("SIGINT", handler);
      process.off("SIGTERM", handler);
    };
  },
};

const code = await runCli(process.argv.slice(2), io);
process.exitCode = code;
// Connections are closed by now, but ioredis may leave a connect timer behind: leave once stdout is flushed.
process.stdout.write("", () => process.exit(code));
