import { describe, expect, it } from "vitest";
import { DEFAULT_STACK_SYMBOLS, parseStackArgs, StackUsageError } from "../src/index.js";

describe("parseStackArgs", () => {
  it("defaults: run until Ctrl-C, the three demo symbols, feeder on", () => {
    expect(parseStackArgs([])).toEqual({
      durationSec: null,
      symbols: DEFAULT_STACK_SYMBOLS,
      stateFile: null,
      logDir: null,
      logLevel: "info",
      feeder: true,
      feederIntervalSec: 5,
      help: false,
    });
  });

  it("reads --duration, space separated --symbols and the other options", () => {
    const a = parseStackArgs([
      "--symbols",
      "btcusdt",
      "SOLUSDT",
      "--duration",
      "20",
      "--state-file",
      "/tmp/s.json",
      "--log-dir=/tmp/logs",
      "--log-level",
      "WARN",
      "--feeder-interval",
      "0.5",
      "--no-feeder",
    ]);
    expect(a).toMatchObject({
      durationSec: 20,
      symbols: ["BTCUSDT", "SOLUSDT"],
      stateFile: "/tmp/s.json",
      logDir: "/tmp/logs",
      logLevel: "warn",
      feederIntervalSec: 0.5,
      feeder: false,
    });
  });

  it("accepts comma separated symbols and drops duplicates", () => {
    expect(parseStackArgs(["--symbols=ETHUSDT,xrpusdt,ETHUSDT"]).symbols).toEqual(["ETHUSDT", "XRPUSDT"]);
    expect(parseStackArgs(["--symbols", "BTCUSDT,ETHUSDT", "DOGEUSDT"]).symbols).toEqual([
      "BTCUSDT",
      "ETHUSDT",
      "DOGEUSDT",
    ]);
  });

  it.each([
    [["--duration"], /--duration: missing value/],
    [["--duration", "0"], /positive number/],
    [["--duration", "abc"], /positive number/],
    [["--symbols", "FOOUSDT"], /FOOUSDT has no paper exchange rules/],
    [["--symbols"], /at least one symbol/],
    [["--log-level", "loud"], /--log-level/],
    [["--feeder-interval", "0.01"], /at least 0.1/],
    [["--bogus"], /unknown argument "--bogus"/],
  ])("rejects %j", (argv, message) => {
    expect(() => parseStackArgs(argv)).toThrow(StackUsageError);
    expect(() => parseStackArgs(argv)).toThrow(message);
  });

  it("--help and -h", () => {
    expect(parseStackArgs(["--help"]).help).toBe(true);
    expect(parseStackArgs(["-h"]).help).toBe(true);
  });
});
