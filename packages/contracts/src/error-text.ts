/** The message of a thrown value: `err.message` for an Error, its string form for anything else. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
