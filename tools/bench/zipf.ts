/**
 * Deterministic workloads: a seeded PRNG and a Zipf sampler, so every run reads the same sequence.
 *   const rnd = mulberry32(42);  const z = new Zipf(10_000, 1.0);  z.sample(rnd) → 1 … 10 000
 */

/** A small, fast, seeded PRNG returning floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zipf(s) over ranks 1…n: P(k) = k^-s / H(n, s). Sampling is a binary search in the CDF. */
export class Zipf {
  private readonly cdf: Float64Array;

  constructor(
    readonly n: number,
    readonly s: number,
  ) {
    if (!Number.isInteger(n) || n < 1) throw new Error(`Zipf n ${n}: an integer ≥ 1`);
    this.cdf = new Float64Array(n);
    let sum = 0;
    for (let k = 1; k <= n; k++) {
      sum += k ** -s;
      this.cdf[k - 1] = sum;
    }
    for (let i = 0; i < n; i++) this.cdf[i] /= sum;
  }

  /** P(rank = k). */
  probability(k: number): number {
    return this.cdf[k - 1] - (k > 1 ? this.cdf[k - 2] : 0);
  }

  /** A rank in 1…n. */
  sample(random: () => number): number {
    const u = random();
    let lo = 0;
    let hi = this.n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo + 1;
  }
}

/**
 * Modelled steady-state hit ratio of a TTL cache (an entry lives `ttlSeconds` after the miss that
 * filled it) under independent Poisson arrivals at `ratePerSecond` in total, distributed by `zipf`:
 * key k is requested at λk = rate · P(k) and hits with probability λk·T / (1 + λk·T).
 */
export function ttlCacheHitRatio(zipf: Zipf, ratePerSecond: number, ttlSeconds: number): number {
  let h = 0;
  for (let k = 1; k <= zipf.n; k++) {
    const p = zipf.probability(k);
    const x = ratePerSecond * p * ttlSeconds;
    h += (p * x) / (1 + x);
  }
  return h;
}
