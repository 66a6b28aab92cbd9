/**
 * Ordering ~10⁸ float32 scores without an index argsort (the cost of the official Python code).
 *
 * A float32 score maps to an order-preserving uint32 key (`floatKey`). Keys are counted in 65536 buckets
 * by their top 16 bits, gathered bucket by bucket into one array, and each bucket is resolved into its
 * distinct keys, in descending order, with a count (or a sum of per-pixel weights) per distinct key:
 * by a 65536-bin histogram of the low 16 bits for big buckets, by a small sort for small ones. No
 * permutation is ever built; memory is 4 bytes per gathered key (+ 8 for a weight).
 *
 * Internal to `src/metrics`.
 *
 * @module
 */

/** Number of top-16-bit buckets. */
export const BUCKETS = 65536;
/** Buckets with at least this many keys are resolved by a low-16-bit histogram, smaller ones by sorting. */
const HISTOGRAM_MIN = 2048;

/**
 * Order-preserving uint32 key of a float32 bit pattern (`bits` as read through a Uint32Array view):
 * negative floats get all bits flipped, positive ones get the sign bit set. −0 is mapped like +0 so the
 * two tie, as `np.diff(sorted) != 0` treats them. The caller rejects NaN and infinity beforehand.
 */
export function floatKey(bits: number): number {
  if (bits === 0x80000000) return 0x80000000;
  return (bits & 0x80000000) !== 0 ? (~bits) >>> 0 : (bits | 0x80000000) >>> 0;
}

/** True when a float32 bit pattern is NaN or ±infinity (exponent all ones). */
export function isNonFiniteBits(bits: number): boolean {
  return (bits & 0x7f800000) === 0x7f800000;
}

/** One population of keys (e.g. the normal pixels), gathered in bucket order. */
export class BucketedKeys {
  /** Key counts per bucket (filled by the caller in a first pass). */
  readonly counts = new Float64Array(BUCKETS);
  /** `start[b]` = offset of bucket b in `keys` (valid for b ≥ `lowestBucket` after {@linkcode allocate}). */
  readonly start = new Float64Array(BUCKETS + 1);
  /** Write cursors per bucket during gathering. */
  readonly cursor = new Float64Array(BUCKETS);
  /** Gathered keys, bucket by bucket, ascending bucket order. */
  keys: Uint32Array = new Uint32Array(0);
  /** Optional per-key weights, parallel to `keys`. */
  weights: Float64Array | null = null;
  /** Buckets below this are not gathered. */
  lowestBucket = 0;

  /** Allocates storage for buckets ≥ `lowestBucket` (after `counts` is complete). */
  allocate(lowestBucket: number, withWeights: boolean): void {
    this.lowestBucket = lowestBucket;
    let offset = 0;
    for (let b = 0; b < BUCKETS; b++) {
      this.start[b] = offset;
      this.cursor[b] = offset;
      if (b >= lowestBucket) offset += this.counts[b];
    }
    this.start[BUCKETS] = offset;
    this.keys = new Uint32Array(offset);
    this.weights = withWeights ? new Float64Array(offset) : null;
  }

  /** Adds a key (its bucket must be ≥ `lowestBucket`). */
  push(key: number): void {
    this.keys[this.cursor[key >>> 16]++] = key;
  }

  /** Adds a key with a weight. */
  pushWeighted(key: number, weight: number): void {
    const at = this.cursor[key >>> 16]++;
    this.keys[at] = key;
    this.weights![at] = weight;
  }

  /** Number of keys in bucket b. */
  size(b: number): number {
    return b >= this.lowestBucket ? this.start[b + 1] - this.start[b] : 0;
  }
}

/** Reusable buffers for {@linkcode resolveBucket}. */
export class BucketScratch {
  readonly histogram = new Float64Array(BUCKETS);
  readonly sortKeys = new Uint32Array(HISTOGRAM_MIN);
  readonly sortIndex = new Uint32Array(HISTOGRAM_MIN);
  readonly outKeys: Uint32Array[] = [new Uint32Array(BUCKETS), new Uint32Array(BUCKETS)];
  readonly outValues: Float64Array[] = [new Float64Array(BUCKETS), new Float64Array(BUCKETS)];
}

/**
 * Resolves bucket `b` of `pop` into its distinct keys in descending order, written to
 * `outKeys[0..n)`, with the number of keys (or, when `pop.weights` is set, the sum of their weights)
 * in `outValues`. Returns n.
 */
export function resolveBucket(
  pop: BucketedKeys,
  b: number,
  scratch: BucketScratch,
  outKeys: Uint32Array,
  outValues: Float64Array,
): number {
  const size = pop.size(b);
  if (size === 0) return 0;
  const begin = pop.start[b];
  const keys = pop.keys;
  const weights = pop.weights;
  let n = 0;
  if (size >= HISTOGRAM_MIN) {
    const hist = scratch.histogram;
    if (weights === null) {
      for (let i = begin; i < begin + size; i++) hist[keys[i] & 0xffff]++;
    } else {
      for (let i = begin; i < begin + size; i++) hist[keys[i] & 0xffff] += weights[i];
    }
    const high = (b << 16) >>> 0;
    for (let low = 0xffff; low >= 0; low--) {
      const v = hist[low];
      if (v !== 0) {
        outKeys[n] = high + low;
        outValues[n] = v;
        n++;
        hist[low] = 0;
      }
    }
    return n;
  }
  if (weights === null) {
    const sorted = scratch.sortKeys.subarray(0, size);
    sorted.set(keys.subarray(begin, begin + size));
    sorted.sort();
    for (let i = size - 1; i >= 0; i--) {
      const k = sorted[i];
      if (n > 0 && outKeys[n - 1] === k) outValues[n - 1]++;
      else {
        outKeys[n] = k;
        outValues[n] = 1;
        n++;
      }
    }
    return n;
  }
  const index = scratch.sortIndex.subarray(0, size);
  for (let i = 0; i < size; i++) index[i] = begin + i;
  index.sort((p, q) => keys[p] - keys[q] || p - q);
  for (let i = size - 1; i >= 0; i--) {
    const k = keys[index[i]];
    const w = weights[index[i]];
    if (n > 0 && outKeys[n - 1] === k) outValues[n - 1] += w;
    else {
      outKeys[n] = k;
      outValues[n] = w;
      n++;
    }
  }
  return n;
}

/**
 * Sorts the keys of bucket `b` of a weighted population by (key, gather position) descending, writing
 * keys and weights to `outKeys` / `outWeights` (each at least the bucket's size); returns the size.
 * Unlike {@linkcode resolveBucket} this keeps one entry per pixel, so that weights can be summed one at a
 * time in score order as `np.cumsum` does. `tmpKeys` / `tmpWeights` are scratch of the same size.
 */
export function sortBucketDescending(
  pop: BucketedKeys,
  b: number,
  outKeys: Uint32Array,
  outWeights: Float64Array,
  tmpKeys: Uint32Array,
  tmpWeights: Float64Array,
): number {
  const size = pop.size(b);
  if (size === 0) return 0;
  const begin = pop.start[b];
  const keys = pop.keys, weights = pop.weights!;
  // Stable LSD radix sort on the low 16 bits (two 8-bit digits): ascending key, gather order within ties.
  const count = new Uint32Array(256);
  let srcK: Uint32Array = keys.subarray(begin, begin + size),
    srcW: Float64Array = weights.subarray(begin, begin + size);
  let dstK = tmpKeys, dstW = tmpWeights;
  for (let shift = 0; shift < 16; shift += 8) {
    count.fill(0);
    for (let i = 0; i < size; i++) count[(srcK[i] >>> shift) & 0xff]++;
    for (let d = 0, sum = 0; d < 256; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < size; i++) {
      const at = count[(srcK[i] >>> shift) & 0xff]++;
      dstK[at] = srcK[i];
      dstW[at] = srcW[i];
    }
    srcK = dstK;
    srcW = dstW;
    dstK = outKeys;
    dstW = outWeights;
  }
  // Pass 1 wrote tmp, pass 2 wrote out (ascending); reverse out in place to descending.
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
