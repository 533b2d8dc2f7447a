/** The proposal actions that close (part of) a position. */
export const CLOSE_ACTIONS = ["FULL_CLOSE_PROPOSED", "PARTIAL_75", "PARTIAL_50"] as const;
export type CloseAction = (typeof CLOSE_ACTIONS)[number];

/** Share of the position each close action closes: the Apply Layer plans it, P3.3 sizes `safe_qty` by it. */
export const CLOSE_FRACTIONS: Readonly<Record<CloseAction, string>> = {
  FULL_CLOSE_PROPOSED: "1",
  PARTIAL_75: "0.75",
  PARTIAL_50: "0.5",
};

export function isCloseAction(action: string): action is CloseAction {
  return (CLOSE_ACTIONS as readonly string[]).includes(action);
}
