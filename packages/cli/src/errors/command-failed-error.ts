/** A command reached Redis but could not complete (a failed MULTI, an unreadable key; exit code 1). */
export class CommandFailedError extends Error {
  readonly code = "command_failed" as const;

  constructor(message: string) {
    super(message);
    this.name = "CommandFailedError";
  }
}
