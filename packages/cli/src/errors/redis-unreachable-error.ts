/** Redis could not be reached or answered with an error before the command could run (exit code 1). */
export class RedisUnreachableError extends Error {
  readonly code = "redis_unreachable" as const;
  /** The URL without its password. */
  readonly url: string;

  constructor(url: string, cause: string) {
    super(`cannot reach Redis at ${url}: ${cause}`);
    this.name = "RedisUnreachableError";
    this.url = url;
  }
}
