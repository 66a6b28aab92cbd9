/**
 * Ordering ~10⁸ float32 scores without an index argsort (the cost of the official Python code).
 *
 * A float32 score maps to an order-preserving 32-bit key ({@linkcode floatKeyInt32}). A first pass counts keys
 * per bucket of their top 16 bits. A second pass appends, for the buckets that matter, the low 16 bits of
 * each key to its bucket's list (2 bytes per pixel; writes stream into a few hundred lists, which caches
 * handle well). A bucket is then resolved into its distinct keys, in descending order, with their counts
 * (a 65536-bin histogram for big buckets, a small sort otherwise) — or, for weighted populations, into
 * its keys sorted descending with one weight per pixel. No permutation is ever built.
 *
 * Internal to `src/metrics`.
 *
 * @module
 */

/** Number of top-16-bit buckets. */
export const BUCKETS = 65536;
/** Buckets with at least this many keys are counted with a scratch histogram, smaller ones sorted. */
const HISTOGRAM_MIN = 2048;

/**
 * Order-preserving key of a float32 bit pattern read through an Int32Array view: negative floats get
 * all bits flipped, positive ones only the sign bit, so that the keys read as uint32 (`key >>> 0`) sort
 * like the floats; `key >>> 16` is the bucket and `key & 0xffff` the low part. −0 maps like +0 so the two
 * tie, as `np.diff(sorted) != 0` treats them. Kept in int32 so V8 never boxes it in hot loops (uint32
 * values ≥ 2³¹ would become doubles). The caller rejects NaN and infinity beforehand.
 *
 * @example
 * ```ts
 * const bits = new Int32Array(new Float32Array([-1, -0, 0, 0.5]).buffer);
 * Array.from(bits, (b) => floatKeyInt32(b) >>> 0); // ascending, with -0 and 0 equal
 * ```
 */
export function floatKeyInt32(bits: number): number {
  const s = bits === -2147483648 ? 0 : bits; // −0 → +0
  return s ^ ((s >> 31) | -2147483648);
}

let keyArrayAdvisor: (buffer: ArrayBuffer) => unknown = () => {};

/**
 * Sets what is done with each new key array before it is written (default: nothing). `evaluate` passes
 * a function that advises huge pages for big buffers (`src/util/huge_pages.ts`): the recording pass
 * writes 2 bytes per pixel across hundreds of MiB, and with small pages its page faults and TLB misses
 * cost more than the writes. Advice only: the numbers do not depend on it.
 *
 * @example
 * ```ts
 * setKeyArrayAdvisor((buffer) => adviseHugePages(buffer));
 * ```
 */
export function setKeyArrayAdvisor(advise: (buffer: ArrayBuffer) => unknown): void {
  keyArrayAdvisor = advise;
}

function keyArrayAdvice(buffer: ArrayBuffer): ArrayBuffer {
  keyArrayAdvisor(buffer);
  return buffer;
}

/**
 * One population of keys (e.g. the normal pixels). Usage: fill `counts` (pass 1), {@linkcode plan},
 * record every key (pass 2) with
 * ```ts
 * const b = key >>> 16;
 * pop.low[pop.cursor[b]] = key; // Uint16Array keeps the low 16 bits
 * pop.cursor[b] += pop.step[b];
 * ```
 * (weighted: also `pop.weights[at] = w` at the same position), then resolve buckets.
 */
export class BucketedKeys {
  /** Key counts per bucket, filled by the caller in pass 1 (totals must stay < 2³²). */
  readonly counts = new Uint32Array(BUCKETS);
  /** `start[b]` = offset of bucket b in `low`. */
  readonly start = new Uint32Array(BUCKETS + 1);
  /** Write cursors during pass 2 (buckets that are not recorded point at a trash slot). */
  readonly cursor = new Uint32Array(BUCKETS);
  /** 1 for recorded buckets, 0 for the others (the trash slot's cursor never advances). */
  readonly step = new Uint8Array(BUCKETS);
  /** Low 16 bits of the recorded keys, bucket by bucket in ascending bucket order, plus a trash slot. */
  low: Uint16Array = new Uint16Array(1);
  /** Per-key weights (weighted populations only), parallel to `low`. */
  weights: Float64Array | null = null;

  /** Prepares storage for buckets ≥ `lowestBucket` (after `counts` is complete). */
  plan(lowestBucket: number, weighted: boolean): void {
    const recorded = new Uint8Array(BUCKETS);
    recorded.fill(1, Math.max(0, lowestBucket));
    this.planWhere(recorded, weighted);
  }

  /** Prepares storage for the buckets b with `recorded[b] === 1` (after `counts` is complete). */
  planWhere(recorded: Uint8Array, weighted: boolean): void {
    let offset = 0;
    for (let b = 0; b < BUCKETS; b++) {
      this.start[b] = offset;
      this.cursor[b] = offset;
      this.step[b] = recorded[b];
      if (recorded[b] === 1) offset += this.counts[b];
    }
    this.start[BUCKETS] = offset;
    for (let b = 0; b < BUCKETS; b++) if (recorded[b] === 0) this.cursor[b] = offset;
    this.low = new Uint16Array(keyArrayAdvice(new ArrayBuffer(2 * (offset + 1))));
    this.weights = weighted ? new Float64Array(keyArrayAdvice(new ArrayBuffer(8 * (offset + 1)))) : null;
  }

  /** Number of recorded keys in bucket b (0 for a bucket that is not recorded). */
  size(b: number): number {
    return this.start[b + 1] - this.start[b];
  }
}

/** Reusable buffers for {@linkcode resolveBucket}. */
export class BucketScratch {
  readonly countHistogram = new Uint32Array(BUCKETS);
  readonly sortKeys = new Uint16Array(HISTOGRAM_MIN);
}

/**
 * Resolves bucket `b` of one unweighted population, or of several taken together (their counts add up),
 * into its distinct keys in descending order, written to `outKeys[0..n)` (length ≥ 65536), with their
 * counts in `outCounts`. Returns n. Does not change the recorded data, so a bucket can be resolved again.
 */
export function resolveBucket(
  pops: readonly BucketedKeys[],
  b: number,
  scratch: BucketScratch,
  outKeys: Uint32Array,
  outCounts: Float64Array,
): number {
  const high = (b << 16) >>> 0;
  let n = 0, size = 0;
  for (const pop of pops) size += pop.size(b);
  if (size === 0) return 0;
  if (size >= HISTOGRAM_MIN) {
    const counts = scratch.countHistogram;
    for (const pop of pops) {
      const begin = pop.start[b], end = begin + pop.size(b), low16 = pop.low;
      for (let i = begin; i < end; i++) counts[low16[i]]++;
    }
    for (let low = 0xffff; low >= 0; low--) {
      const c = counts[low];
      if (c !== 0) {
        outKeys[n] = high + low;
        outCounts[n] = c;
        n++;
        counts[low] = 0;
      }
    }
    return n;
  }
  const sorted = scratch.sortKeys.subarray(0, size);
  let at = 0;
  for (const pop of pops) {
    const begin = pop.start[b];
    sorted.set(pop.low.subarray(begin, begin + pop.size(b)), at);
    at += pop.size(b);
  }
  sorted.sort();
  for (let i = size - 1; i >= 0; i--) {
    const k = high + sorted[i];
    if (n > 0 && outKeys[n - 1] === k) outCounts[n - 1]++;
    else {
      outKeys[n] = k;
      outCounts[n] = 1;
      n++;
    }
  }
  return n;
}

/**
 * Sorts the keys of bucket `b` of a weighted population by (key, record position) descending,
 * writing keys and weights to `outKeys` / `outWeights` (each at least the bucket's size); returns the
 * size. One entry per pixel, so that weights can be summed one at a time in score order as `np.cumsum`
 * does. `tmpKeys` / `tmpWeights` are scratch of the same size. Stable LSD radix sort on the low 16 bits.
 */
export function sortBucketDescending(
  pop: BucketedKeys,
  b: number,
  outKeys: Uint32Array,
  outWeights: Float64Array,
  tmpKeys: Uint16Array,
  tmpWeights: Float64Array,
): number {
  const size = pop.size(b);
  if (size === 0) return 0;
  const begin = pop.start[b];
  const src = pop.low.subarray(begin, begin + size), srcW = pop.weights!.subarray(begin, begin + size);
  // Stable counting sorts: by the low byte into tmp, then by the high byte into out.
  const count = new Uint32Array(256);
  for (let i = 0; i < size; i++) count[src[i] & 0xff]++;
  for (let d = 0, sum = 0; d < 256; d++) {
    const c = count[d];
    count[d] = sum;
    sum += c;
  }
  for (let i = 0; i < size; i++) {
    const at = count[src[i] & 0xff]++;
    tmpKeys[at] = src[i];
    tmpWeights[at] = srcW[i];
  }
  count.fill(0);
  for (let i = 0; i < size; i++) count[tmpKeys[i] >>> 8]++;
  for (let d = 0, sum = 0; d < 256; d++) {
    const c = count[d];
    count[d] = sum;
    sum += c;
  }
  const high = (b << 16) >>> 0;
  for (let i = 0; i < size; i++) {
    const at = count[tmpKeys[i] >>> 8]++;
    outKeys[at] = high + tmpKeys[i];
    outWeights[at] = tmpWeights[i];
  }
  // Ascending in `out`; reverse in place to descending.
  for (let i = 0, j = size - 1; i < j; i++, j--) {
    const k = outKeys[i];
    outKeys[i] = outKeys[j];
    outKeys[j] = k;
    const w = outWeights[i];
    outWeights[i] = outWeights[j];
    outWeights[j] = w;
  }
  return size;
}
