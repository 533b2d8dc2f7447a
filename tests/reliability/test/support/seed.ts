/**
 * The run's seed: RELIABILITY_SEED replays a run; without it a fixed default keeps CI reproducible.
 * Every file derives its own generator from the seed and its name, so files do not shift each other's
 * sequences, and prints the run seed when it starts.
 */
export const DEFAULT_SEED = 20_260_201;

export function reliabilitySeed(): number {
  const raw = process.env.RELIABILITY_SEED?.trim();
  if (raw === undefined || raw === "") return DEFAULT_SEED;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new Error(`RELIABILITY_SEED must be a non-negative integer, got ${JSON.stringify(raw)}`);
  }
  return n;
}

/** Print the run seed once per file (vitest shows stderr); returns it. */
export function announceSeed(file: string): number {
  const seed = reliabilitySeed();
  process.stderr.write(`[reliability] ${file}: seed ${seed} (replay with RELIABILITY_SEED=${seed})\n`);
  return seed;
}

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [lo, hi] (inclusive). */
  int(lo: number, hi: number): number;
  pick<T>(items: readonly T[]): T;
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[];
}

function hashString(s: string): number {
  let h = 2_166_136_261;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 16_777_619);
  }
  return h >>> 0;
}

/** mulberry32 seeded with the run seed mixed with a stream name. */
export function rng(seed: number, stream: string): Rng {
  let a = (seed ^ hashString(stream)) >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (lo: number, hi: number): number => lo + Math.floor(next() * (hi - lo + 1));
  return {
    next,
    int,
    pick: <T>(items: readonly T[]): T => {
      if (items.length === 0) throw new Error("pick from an empty list");
      return items[int(0, items.length - 1)] as T;
    },
    shuffle: <T>(items: readonly T[]): T[] => {
      const out = [...items];
      for (let i = out.length - 1; i > 0; i--) {
        const j = int(0, i);
        [out[i], out[j]] = [out[j] as T, out[i] as T];
      }
      return out;
    },
  };
}
