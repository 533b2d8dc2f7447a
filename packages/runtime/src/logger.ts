import pino, { type DestinationStream, type Logger } from "pino";
import { REDACTED, redactPaths, redactString } from "./redact.js";

export type { Logger } from "pino";

export interface LoggerOptions {
  service: string;
  /** pino level; default "info". */
  level?: string;
  /** Where JSON lines go; default stdout (synchronous, so nothing is lost on exit). */
  destination?: DestinationStream;
  /** Secret values (API keys, passwords) to scrub from messages and error texts. */
  secrets?: readonly (string | undefined)[];
  /** More key names to redact at any depth. */
  redactKeys?: readonly string[];
  /** Extra base fields (mode, venue, version). */
  base?: Record<string, string | number>;
}

/**
 * pino JSON logger: `{"level":"info","time":"…","service":…,"msg":…}`. Sensitive keys (API keys, secrets,
 * signatures, passwords, authorization and X-MBX-APIKEY headers, `*.config.headers`) are redacted at any depth;
 * known secret values and `signature=` query parameters are scrubbed from messages and errors. One child
 * logger per component: `log.child({ component: "permit-waiter" })`.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const secrets = opts.secrets ?? [];
  const scrub = (s: string): string => redactString(s, secrets);
  const errSerializer = (err: Error): Record<string, unknown> => {
    const o = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
    for (const k of ["message", "stack"]) {
      const v = o[k];
      if (typeof v === "string") o[k] = scrub(v);
    }
    return o;
  };
  return pino(
    {
      level: opts.level ?? "info",
      base: { service: opts.service, pid: process.pid, ...opts.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        log: (obj) => {
          const out: Record<string, unknown> = {};
          for (const [k, v] of Object.entries(obj)) out[k] = typeof v === "string" ? scrub(v) : v;
          return out;
        },
      },
      redact: { paths: redactPaths(opts.redactKeys), censor: REDACTED },
      serializers: { err: errSerializer, error: errSerializer },
      hooks: {
        logMethod(args, method) {
          const scrubbed = args.map((a) => (typeof a === "string" ? scrub(a) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, scrubbed);
        },
      },
    },
    opts.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}
