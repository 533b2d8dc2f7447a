/** Configuration could not be loaded or validated. `issues` names every problem, one line each. */
export class ConfigError extends Error {
  readonly code = "config_invalid" as const;
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(
      `invalid configuration (${issues.length} problem${issues.length === 1 ? "" : "s"}):\n  - ${issues.join("\n  - ")}`,
    );
    this.name = "ConfigError";
    this.issues = issues;
  }
}
