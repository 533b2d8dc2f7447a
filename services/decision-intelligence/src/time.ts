/** UTC minute arithmetic of the P3.5 buckets (`quantum:p35:bucket:<YYYYMMDDHHMM UTC>`). */

export const MS_PER_MINUTE = 60_000;

/** Earliest time a bucket id can express (0001-01-01 would need more digits; the epoch is the floor). */
export const MIN_BUCKET_MS = 0;
/** 9999-12-31T23:59:59.999Z: the last instant a 12-digit YYYYMMDDHHMM id can express. */
export const MAX_BUCKET_MS = 253_402_300_799_999;

/** Minutes since the epoch of an instant (UTC minute index). */
export function minuteOf(epochMs: number): number {
  return Math.floor(epochMs / MS_PER_MINUTE);
}

let lastMinute = Number.NaN;
let lastId = "";

/** `YYYYMMDDHHMM` of a UTC minute index. Never local time. */
export function bucketId(minute: number): string {
  // Results arrive grouped by minute: the last minute's id is kept instead of formatting a date per result.
  if (minute === lastMinute) return lastId;
  const iso = new Date(minute * MS_PER_MINUTE).toISOString(); // 2026-02-01T06:50:00.000Z
  lastId = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}`;
  lastMinute = minute;
  return lastId;
}

/** `YYYYMMDDHHMM` of the UTC minute containing an epoch-seconds instant. */
export function bucketIdOfSec(epochSec: number): string {
  return bucketId(minuteOf(epochSec * 1000));
}
