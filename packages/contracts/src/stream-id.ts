const STREAM_ID_RE = /^(\d{1,16})-(\d{1,20})$/;

/** The millisecond time of a stream entry id (`1769929500123-0`), or null when the id is not `<ms>-<seq>`. */
export function streamIdMs(id: string | undefined): number | null {
  const m = id === undefined ? null : STREAM_ID_RE.exec(id);
  return m === null ? null : Number(m[1]);
}
