/**
 * One descending ordering of pooled pixel scores, built once and shared by the pooled pixel metrics
 * (pixel AUROC, AU-PRO, F1-max): float32 scores keyed by bit pattern and bucketed by their top 16 bits
 * (`score_keys.ts`), normal (mask 0) and defect pixels apart, defect pixels with the weight 1/|region| of
 * their 8-connected region when AU-PRO needs it.
 *
 * Pass 1 (the constructor) validates every score and counts keys per bucket; pass 2
 * ({@linkcode PooledPixelIndex.record}) stores the low 16 bits of the keys of the buckets a metric needs.
 * A bucket that is not recorded is known only by its count, which is all pixel AUROC needs of a bucket that
 * holds no defect pixel: its normal pixels rank below every defect pixel of the buckets above and above
 * every one below, whatever their low bits.
 *
 * Internal to `src/metrics`.
 *
 * @module
 */
import { nonFiniteScoreError } from "./validate.ts";
import { labelRegions8 } from "./connected_components.ts";
import { BucketedKeys, BUCKETS, BucketScratch, floatKeyInt32, resolveBucket } from "./score_keys.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/**
 * Float32 bit patterns of a map as int32 (so V8 keeps them as small integers): a view for Float32Array,
 * a float32 copy (into `scratch`) for a float32-exact Float64Array.
 */
function float32Bits(map: ScoreMap, scratch: { f32: Float32Array }): Int32Array {
  if (map.data instanceof Float32Array) {
    return new Int32Array(map.data.buffer, map.data.byteOffset, map.data.length);
  }
  if (scratch.f32.length < map.data.length) scratch.f32 = new Float32Array(map.data.length);
  const f32 = scratch.f32.subarray(0, map.data.length);
  f32.set(map.data);
  return new Int32Array(f32.buffer, 0, map.data.length);
}

/**
 * True when every map can be ordered on float32 bit patterns without changing any score (Float32Array
 * data, or Float64Array data whose every finite value is a float32 value).
 */
export function allFloat32(maps: ScoreMap[]): boolean {
  for (const map of maps) {
    if (map.data instanceof Float32Array) continue;
    const d = map.data;
    for (let i = 0; i < d.length; i++) if (Math.fround(d[i]) !== d[i] && !Number.isNaN(d[i])) return false;
  }
  return true;
}

/** Which buckets {@linkcode PooledPixelIndex.record} stores. */
export interface RecordPlan {
  /** Normal pixels of buckets ≥ this are recorded (BUCKETS = none by this rule). */
  normalFrom: number;
  /** Also record the normal pixels of every bucket that holds a defect pixel. */
  normalWhereDefect: boolean;
  /** Defect pixels of buckets ≥ this are recorded. */
  defectFrom: number;
  /** Label regions and store each defect pixel's weight 1/|region| (what AU-PRO sums). */
  weighted: boolean;
}

/**
 * The pooled pixels of a set of float32-exact maps (check {@linkcode allFloat32} first) and their masks
 * (non-zero = defect), indexed by score. Sizes must have been checked (`checkMapsAndMasks`).
 *
 * @example
 * ```ts
 * const index = new PooledPixelIndex(maps, masks); // throws on NaN/infinite scores
 * index.record({ normalFrom: 0, normalWhereDefect: false, defectFrom: 0, weighted: false });
 * index.walk((normal, defect) => { ... }); // every distinct score, highest first
 * ```
 */
export class PooledPixelIndex {
  /** Normal (mask 0) pixels: counts per bucket after construction, keys after `record`. */
  readonly normal: BucketedKeys = new BucketedKeys();
  /** Defect pixels (weighted by 1/|region| when recorded with `weighted`). */
  readonly defect: BucketedKeys = new BucketedKeys();
  /** Normal pixels over all maps. */
  readonly nNormal: number;
  /** Defect pixels over all maps. */
  readonly nDefect: number;
  /** 8-connected regions over all masks; known after a `weighted` record (else -1). */
  nRegions = -1;
  readonly #maps: ScoreMap[];
  readonly #masks: MaskMap[];
  readonly #defectsPerImage: Float64Array;
  readonly #scratch = { f32: new Float32Array(0) };

  /** Pass 1: validates every score (naming image and pixel) and counts keys per bucket. */
  constructor(maps: ScoreMap[], masks: MaskMap[]) {
    this.#maps = maps;
    this.#masks = masks;
    this.#defectsPerImage = new Float64Array(maps.length);
    const normalCounts = this.normal.counts, defectCounts = this.defect.counts;
    let nDefect = 0, total = 0;
    for (let i = 0; i < maps.length; i++) {
      const bits = float32Bits(maps[i], this.#scratch);
      const mask = masks[i].data;
      let inDefect = 0;
      for (let p = 0; p < bits.length; p++) {
        const u = bits[p];
        if ((u & 0x7f800000) === 0x7f800000) throw nonFiniteScoreError(i, maps[i], p);
        const bucket = floatKeyInt32(u) >>> 16;
        if (mask[p] === 0) normalCounts[bucket]++;
        else {
          defectCounts[bucket]++;
          inDefect++;
        }
      }
      this.#defectsPerImage[i] = inDefect;
      nDefect += inDefect;
      total += bits.length;
    }
    this.nDefect = nDefect;
    this.nNormal = total - nDefect;
  }

  /** Pass 2: stores the keys (and weights) of the buckets `plan` names. Call once. */
  record(plan: RecordPlan): void {
    const { normalFrom, normalWhereDefect, defectFrom, weighted } = plan;
    const defectCounts = this.defect.counts;
    const normalRecorded = new Uint8Array(BUCKETS), defectRecorded = new Uint8Array(BUCKETS);
    for (let b = 0; b < BUCKETS; b++) {
      normalRecorded[b] = b >= normalFrom || (normalWhereDefect && defectCounts[b] > 0) ? 1 : 0;
      defectRecorded[b] = b >= defectFrom ? 1 : 0;
    }
    this.normal.planWhere(normalRecorded, false);
    this.defect.planWhere(defectRecorded, weighted);
    const normalLow = this.normal.low, normalCursor = this.normal.cursor, normalStep = this.normal.step;
    const defectLow = this.defect.low, defectCursor = this.defect.cursor, defectStep = this.defect.step;
    const defectWeights = this.defect.weights;
    let labelBuffer = new Int32Array(0);
    let nRegions = 0;
    for (let i = 0; i < this.#maps.length; i++) {
      const bits = float32Bits(this.#maps[i], this.#scratch);
      if (this.#defectsPerImage[i] === 0) {
        // Branch-free: keys of unrecorded buckets go to a trash slot whose cursor never advances.
        for (let p = 0; p < bits.length; p++) {
          const key = floatKeyInt32(bits[p]);
          const b = key >>> 16;
          normalLow[normalCursor[b]] = key; // Uint16Array keeps the low 16 bits
          normalCursor[b] += normalStep[b];
        }
        continue;
      }
      const { width, height, data: mask } = this.#masks[i];
      if (defectWeights === null) {
        // The weighted loop below without region labels: kept apart, as each is a hot loop over 10⁸ pixels.
        for (let p = 0; p < bits.length; p++) {
          const key = floatKeyInt32(bits[p]);
          const b = key >>> 16;
          if (mask[p] === 0) {
            normalLow[normalCursor[b]] = key;
            normalCursor[b] += normalStep[b];
          } else {
            defectLow[defectCursor[b]] = key;
            defectCursor[b] += defectStep[b];
          }
        }
        continue;
      }
      if (labelBuffer.length < width * height) labelBuffer = new Int32Array(width * height);
      const { labels, sizes, count } = labelRegions8(mask, width, height, labelBuffer);
      nRegions += count;
      for (let p = 0; p < bits.length; p++) {
        const key = floatKeyInt32(bits[p]);
        const b = key >>> 16;
        if (mask[p] === 0) {
          normalLow[normalCursor[b]] = key;
          normalCursor[b] += normalStep[b];
        } else {
          const at = defectCursor[b];
          defectLow[at] = key;
          defectWeights[at] = 1 / sizes[labels[p]];
          defectCursor[b] += defectStep[b];
        }
      }
    }
    if (weighted) this.nRegions = nRegions;
  }

  /**
   * Calls `visit(normal, defect)` for every distinct score from the highest down with the number of
   * normal and defect pixels holding it. A bucket whose normal pixels were not recorded (it must then hold
   * no defect pixel) is visited once with its count: exact for rank statistics such as AUROC, not for
   * metrics that need every threshold.
   */
  walk(visit: (normal: number, defect: number) => void): void {
    const scratch = new BucketScratch();
    const nk = new Uint32Array(BUCKETS), dk = new Uint32Array(BUCKETS);
    const nv = new Float64Array(BUCKETS), dv = new Float64Array(BUCKETS);
    const normal = this.normal, defect = this.defect;
    const normals = [normal], defects = [defect];
    for (let b = BUCKETS - 1; b >= 0; b--) {
      const nN = resolveBucket(normals, b, scratch, nk, nv);
      const nD = resolveBucket(defects, b, scratch, dk, dv);
      if (nN === 0 && normal.counts[b] > 0) {
        if (defect.counts[b] > 0) throw unrecorded(b);
        visit(normal.counts[b], 0);
        continue;
      }
      if (nD === 0 && defect.counts[b] > 0) throw unrecorded(b);
      let i = 0, j = 0;
      while (i < nN || j < nD) {
        if (j >= nD || (i < nN && nk[i] > dk[j])) visit(nv[i++], 0);
        else if (i >= nN || dk[j] > nk[i]) visit(0, dv[j++]);
        else visit(nv[i++], dv[j++]);
      }
    }
  }
}

function unrecorded(bucket: number): Error {
  return new Error(`PooledPixelIndex.walk: bucket ${bucket} holds defect pixels but was not recorded`);
}
