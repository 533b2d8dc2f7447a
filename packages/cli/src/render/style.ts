/** ANSI colours, or identity functions when colour is off (not a TTY, --json, NO_COLOR). */
export interface Style {
  readonly color: boolean;
  red(s: string): string;
  green(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const wrap = (open: number, close: number) => (s: string) => `\u001b[${open}m${s}\u001b[${close}m`;
const plain = (s: string) => s;

export function createStyle(color: boolean): Style {
  if (!color) return { color, red: plain, green: plain, yellow: plain, bold: plain, dim: plain };
  return {
    color,
    red: wrap(31, 39),
    green: wrap(32, 39),
    yellow: wrap(33, 39),
    bold: wrap(1, 22),
    dim: wrap(2, 22),
  };
}

/** Colour only when stdout is a TTY, output is not JSON and NO_COLOR is unset or empty. */
export function shouldColor(opts: { isTTY: boolean; json: boolean; noColor: string | undefined }): boolean {
  return opts.isTTY && !opts.json && (opts.noColor === undefined || opts.noColor === "");
}
