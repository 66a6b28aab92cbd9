/**
 * AU-PRO: the normalised area under the per-region-overlap (PRO) curve up to an FPR limit, computed as the
 * official MVTec AD evaluation code (v1.0, `pro_curve_util.py::compute_pro` + `generic_util.py::trapezoid`)
 * computes it — see `docs/metrics.md` §1 of the shared notes:
 *
 * 1. regions = 8-connected components of each mask, labelled per image (`ndimage.label`, 3×3 ones);
 * 2. every mask-0 pixel of every image (defect-free images included) counts towards the FPR;
 * 3. one curve point per distinct score t (pixels with score ≥ t are positive), ties exact;
 * 4. FPR = #OK pixels ≥ t / N_ok, rounded as the official code (`float32`: NumPy ≥ 2,
 *    `Math.fround(Math.fround(count) / nOk)`); PRO = mean over all regions of the covered fraction;
 * 5. both clipped to ≤ 1, (0, 0) prepended and (1, 1) appended;
 * 6. trapezoid up to the limit with linear interpolation at the limit, divided by the limit.
 *
 * Instead of an argsort of every pixel, float32 scores are bucketed by their bit patterns and only the
 * part of the curve up to the limit is resolved (see `score_keys.ts`).
 *
 * @module
 */
import { checkMapsAndMasks, nonFiniteScoreError } from "./validate.ts";
import { labelRegions8 } from "./connected_components.ts";
import {
  BucketedKeys,
  BUCKETS,
  BucketScratch,
  floatKey,
  isNonFiniteBits,
  resolveBucket,
  sortBucketDescending,
} from "./score_keys.ts";
import { trapezoidToLimit } from "./trapezoid.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/**
 * How the FPR of each curve point is rounded:
 * - `float32`: the official code under NumPy ≥ 2, `fround(fround(count) / nOk)` (the default);
 * - `float32_numpy1`: the official code under NumPy 1.x (the script pins 1.18.5), `fround(count) / fround(nOk)` in float32;
 * - `float64`: exact `count / nOk`.
 * They differ by ≤ ~5e-8 in AU-PRO; `float32` and `float32_numpy1` only when N_ok > 2²⁴.
 */
export type FprMode = "float32" | "float32_numpy1" | "float64";

/** Options of {@linkcode auPro}. */
export interface AuProOptions {
  /** FPR limit of the integration, 0 < limit ≤ 1. Default 0.3 (the MVTec AD convention). */
  integrationLimit?: number;
  /** FPR rounding, default `"float32"` (official code under NumPy ≥ 2). */
  fprMode?: FprMode;
  /** At most this many curve points are returned in `curve` (evenly thinned); default 10000. */
  maxCurvePoints?: number;
}

/** Result of {@linkcode auPro}. */
export interface AuProResult {
  /** Area under the PRO curve from FPR 0 to the limit, divided by the limit. */
  auPro: number;
  /** The FPR limit used. */
  integrationLimit: number;
  /** The FPR rounding used. */
  fprMode: FprMode;
  /** Number of 8-connected defect regions over all masks (R). */
  nRegions: number;
  /** Number of mask-0 pixels over all images (N_ok). */
  nOkPixels: number;
  /** True when R = 0 or N_ok = 0: the official code then returns limit/2 (0.15 for 0.3) and so do we. */
  degenerate: boolean;
  /** Human-readable warnings (degenerate input). */
  warnings: string[];
  /**
   * The curve from (0, 0) through the first point past the limit (the part the area uses; with limit 1
   * the whole curve to (1, 1)), thinned to at most `maxCurvePoints` points. FPR and PRO as the official
   * code has them (clipped to ≤ 1).
   */
  curve: { fpr: Float64Array; pro: Float64Array };
  /** Number of curve points up to and including the first point past the limit, before thinning. */
  nCurvePoints: number;
  /** Precision the scores were compared at: float32 unless some float64 score is not a float32 value. */
  scoreDtype: "float32" | "float64";
}

/** Accumulates curve points (FPR, PRO), one per distinct score, from the highest score down. */
class ProCurveBuilder {
  readonly x: Float64Array;
  readonly y: Float64Array;
  n = 0;
  done = false;
  #okCum = 0;
  #proCum = 0;
  readonly #nOk: number;
  readonly #nOk32: number;
  readonly #nRegions: number;
  readonly #limit: number;
  readonly #mode: FprMode;

  constructor(capacity: number, nOk: number, nRegions: number, limit: number, mode: FprMode) {
    this.x = new Float64Array(capacity);
    this.y = new Float64Array(capacity);
    this.#nOk = nOk;
    this.#nOk32 = Math.fround(nOk);
    this.#nRegions = nRegions;
    this.#limit = limit;
    this.#mode = mode;
    this.x[0] = 0; // official: np.concatenate((zero, fprs, one))
    this.y[0] = 0;
    this.n = 1;
  }

  /** Adds one region pixel's PRO weight 1/|region| (summed one at a time, as `np.cumsum` does). */
  addRegionPixel(weight: number): void {
    this.#proCum += weight;
  }

  /** Closes the point of the current distinct score, after `okDelta` more OK pixels and its region pixels. */
  point(okDelta: number): void {
    this.#okCum += okDelta;
    const fpr = fprOf(this.#okCum, this.#nOk, this.#nOk32, this.#mode);
    const pro = this.#proCum / this.#nRegions;
    this.x[this.n] = fpr > 1 ? 1 : fpr; // np.clip(..., a_max=1)
    this.y[this.n] = pro > 1 ? 1 : pro;
    this.n++;
    if (fpr > this.#limit) this.done = true;
  }

  /** Appends the official (1, 1) end point. */
  finish(): void {
    this.x[this.n] = 1;
    this.y[this.n] = 1;
    this.n++;
  }
}

function fprOf(count: number, nOk: number, nOk32: number, mode: FprMode): number {
  if (mode === "float32") return Math.fround(Math.fround(count) / nOk);
  if (mode === "float32_numpy1") return Math.fround(Math.fround(count) / nOk32);
  return count / nOk;
}

/**
 * Merges the OK pixels (distinct keys, descending, with counts) and the region pixels (one entry per
 * pixel, descending) into curve points, one per distinct key. Returns false once the builder is done.
 */
function mergeDescending(
  okKeys: ArrayLike<number>,
  okCounts: ArrayLike<number>,
  nOk: number,
  regKeys: ArrayLike<number>,
  regWeights: ArrayLike<number>,
  nReg: number,
  builder: ProCurveBuilder,
): boolean {
  let i = 0, j = 0;
  while (i < nOk || j < nReg) {
    const t = j >= nReg ? okKeys[i] : i >= nOk ? regKeys[j] : Math.max(okKeys[i], regKeys[j]);
    let okDelta = 0;
    if (i < nOk && okKeys[i] === t) okDelta = okCounts[i++];
    while (j < nReg && regKeys[j] === t) builder.addRegionPixel(regWeights[j++]);
    builder.point(okDelta);
    if (builder.done) return false;
  }
  return true;
}

/** Float32 bit patterns of a map: a view for Float32Array, a float32 copy for float32-exact Float64Array. */
function float32Bits(map: ScoreMap, scratch: { f32: Float32Array }): Uint32Array {
  if (map.data instanceof Float32Array) {
    return new Uint32Array(map.data.buffer, map.data.byteOffset, map.data.length);
  }
  if (scratch.f32.length < map.data.length) scratch.f32 = new Float32Array(map.data.length);
  const f32 = scratch.f32.subarray(0, map.data.length);
  f32.set(map.data);
  return new Uint32Array(f32.buffer, 0, map.data.length);
}

/** True when every map can be evaluated on float32 bit patterns without changing any score. */
function allFloat32(maps: ScoreMap[]): boolean {
  for (const map of maps) {
    if (map.data instanceof Float32Array) continue;
    const d = map.data;
    for (let i = 0; i < d.length; i++) if (Math.fround(d[i]) !== d[i]) return false;
  }
  return true;
}

/**
 * AU-PRO up to an FPR limit, exactly as the official MVTec AD evaluation code computes it (module doc).
 * Maps may differ in size from each other but each must match its mask. Throws on NaN/infinite scores
 * (naming image and pixel) and size mismatches (naming the image index).
 *
 * @example
 * ```ts
 * const map = { width: 2, height: 1, data: new Float32Array([0.9, 0.1]) };
 * const mask = { width: 2, height: 1, data: new Uint8Array([1, 0]) };
 * auPro([map], [mask]).auPro; // 1: the defect outranks the normal pixel
 * ```
 */
export function auPro(maps: ScoreMap[], masks: MaskMap[], options: AuProOptions = {}): AuProResult {
  const { integrationLimit = 0.3, fprMode = "float32", maxCurvePoints = 10000 } = options;
  if (!(integrationLimit > 0 && integrationLimit <= 1)) {
    throw new RangeError(`auPro: integration limit must be in (0, 1], got ${integrationLimit}`);
  }
  if (fprMode !== "float32" && fprMode !== "float32_numpy1" && fprMode !== "float64") {
    throw new RangeError(`auPro: fprMode must be float32, float32_numpy1 or float64, got ${fprMode}`);
  }
  checkMapsAndMasks(maps, masks, "auPro");
  const fast = allFloat32(maps);
  const { builder, nOk, nRegions } = fast
    ? buildCurveFloat32(maps, masks, integrationLimit, fprMode)
    : buildCurveFloat64(maps, masks, integrationLimit, fprMode);
  const warnings: string[] = [];
  const degenerate = nOk === 0 || nRegions === 0;
  let x: Float64Array, y: Float64Array, n: number;
  if (degenerate) {
    // Official: every real point has a NaN FPR or PRO and `trapezoid` drops it, leaving (0, 0)–(1, 1).
    x = new Float64Array([0, 1]);
    y = new Float64Array([0, 1]);
    n = 2;
    const why = nRegions === 0 ? "no defect region in any mask" : "no normal (mask 0) pixel in any image";
    warnings.push(
      `AU-PRO is degenerate: ${why} (regions ${nRegions}, OK pixels ${nOk}); reporting the official code's value limit/2 = ${
        integrationLimit / 2
      }, which measures nothing`,
    );
  } else {
    if (!builder!.done) builder!.finish();
    x = builder!.x;
    y = builder!.y;
    n = builder!.n;
  }
  const { area } = trapezoidToLimit(x, y, n, integrationLimit);
  return {
    auPro: area / integrationLimit,
    integrationLimit,
    fprMode,
    nRegions,
    nOkPixels: nOk,
    degenerate,
    warnings,
    curve: thinCurve(x, y, n, maxCurvePoints),
    nCurvePoints: n,
    scoreDtype: fast ? "float32" : "float64",
  };
}

function thinCurve(x: Float64Array, y: Float64Array, n: number, max: number) {
  if (n <= max || max < 2) return { fpr: x.slice(0, n), pro: y.slice(0, n) };
  const fpr = new Float64Array(max), pro = new Float64Array(max);
  for (let i = 0; i < max; i++) {
    const k = Math.round(i * (n - 1) / (max - 1));
    fpr[i] = x[k];
    pro[i] = y[k];
  }
  return { fpr, pro };
}

interface CurveBuild {
  builder: ProCurveBuilder | null;
  nOk: number;
  nRegions: number;
}

/** Fast path: float32 scores, bucketed by bit pattern; resolves only down to the bucket where FPR passes the limit. */
function buildCurveFloat32(maps: ScoreMap[], masks: MaskMap[], limit: number, mode: FprMode): CurveBuild {
  const ok = new BucketedKeys();
  const regions = new BucketedKeys();
  const scratch = { f32: new Float32Array(0) };
  let labelBuffer = new Int32Array(0);
  const labelsOf = (i: number) => {
    const { width, height, data } = masks[i];
    if (labelBuffer.length < width * height) labelBuffer = new Int32Array(width * height);
    return labelRegions8(data, width, height, labelBuffer);
  };
  // Pass 1: validate, count OK and region keys per top-16-bit bucket, count regions.
  let nOk = 0, nRegions = 0;
  for (let i = 0; i < maps.length; i++) {
    const bits = float32Bits(maps[i], scratch);
    const mask = masks[i].data;
    nRegions += labelsOf(i).count;
    const okCounts = ok.counts, regionCounts = regions.counts;
    for (let p = 0; p < bits.length; p++) {
      const u = bits[p];
      if (isNonFiniteBits(u)) throw nonFiniteScoreError(i, maps[i], p);
      const bucket = floatKey(u) >>> 16;
      if (mask[p] === 0) {
        okCounts[bucket]++;
        nOk++;
      } else regionCounts[bucket]++;
    }
  }
  if (nOk === 0 || nRegions === 0) return { builder: null, nOk, nRegions };
  // The bucket in which the FPR first exceeds the limit: nothing below it can change the area.
  const nOk32 = Math.fround(nOk);
  let lowest = 0;
  for (let b = BUCKETS - 1, cum = 0; b >= 0; b--) {
    cum += ok.counts[b];
    if (Math.min(fprOf(cum, nOk, nOk32, mode), 1) > limit) {
      lowest = b;
      break;
    }
  }
  ok.allocate(lowest, false);
  regions.allocate(lowest, true);
  // Pass 2: gather the keys of the needed buckets, regions with their weight 1/|region|.
  const lowestKey = (lowest << 16) >>> 0;
  for (let i = 0; i < maps.length; i++) {
    const bits = float32Bits(maps[i], scratch);
    const { labels, sizes } = labelsOf(i);
    for (let p = 0; p < bits.length; p++) {
      const key = floatKey(bits[p]);
      if (key < lowestKey) continue;
      const l = labels[p];
      if (l === 0) ok.push(key);
      else regions.pushWeighted(key, 1 / sizes[l]);
    }
  }
  const builder = new ProCurveBuilder(
    ok.keys.length + regions.keys.length + 2,
    nOk,
    nRegions,
    limit,
    mode,
  );
  const buffers = new BucketScratch();
  let largestRegionBucket = 0;
  for (let b = lowest; b < BUCKETS; b++) largestRegionBucket = Math.max(largestRegionBucket, regions.size(b));
  const regKeys = new Uint32Array(largestRegionBucket), regKeysTmp = new Uint32Array(largestRegionBucket);
  const regWeights = new Float64Array(largestRegionBucket),
    regWeightsTmp = new Float64Array(largestRegionBucket);
  for (let b = BUCKETS - 1; b >= lowest; b--) {
    const nOkKeys = resolveBucket(ok, b, buffers, buffers.outKeys[0], buffers.outValues[0]);
    const nRegPixels = sortBucketDescending(regions, b, regKeys, regWeights, regKeysTmp, regWeightsTmp);
    if (nOkKeys === 0 && nRegPixels === 0) continue;
    const more = mergeDescending(
      buffers.outKeys[0],
      buffers.outValues[0],
      nOkKeys,
      regKeys,
      regWeights,
      nRegPixels,
      builder,
    );
    if (!more) break;
  }
  return { builder, nOk, nRegions };
}

/** General path for float64 scores that float32 cannot hold exactly: sort the scores themselves. */
function buildCurveFloat64(maps: ScoreMap[], masks: MaskMap[], limit: number, mode: FprMode): CurveBuild {
  let nOk = 0, nRegionPixels = 0, nRegions = 0;
  for (let i = 0; i < maps.length; i++) {
    const data = maps[i].data, mask = masks[i].data;
    for (let p = 0; p < data.length; p++) {
      if (!Number.isFinite(data[p])) throw nonFiniteScoreError(i, maps[i], p);
      if (mask[p] === 0) nOk++;
      else nRegionPixels++;
    }
  }
  const okScores = new Float64Array(nOk);
  const regScores = new Float64Array(nRegionPixels);
  const regWeights = new Float64Array(nRegionPixels);
  let o = 0, r = 0;
  for (let i = 0; i < maps.length; i++) {
    const { width, height, data: mask } = masks[i];
    const { labels, count, sizes } = labelRegions8(mask, width, height);
    nRegions += count;
    const data = maps[i].data;
    for (let p = 0; p < data.length; p++) {
      const l = labels[p];
      if (l === 0) okScores[o++] = data[p];
      else {
        regScores[r] = data[p];
        regWeights[r++] = 1 / sizes[l];
      }
    }
  }
  if (nOk === 0 || nRegions === 0) return { builder: null, nOk, nRegions };
  okScores.sort();
  // Distinct OK scores, descending, with counts (−0 and +0 compare equal, as in np.diff).
  const okKeys = new Float64Array(nOk), okCounts = new Float64Array(nOk);
  let nOkKeys = 0;
  for (let k = nOk - 1; k >= 0; k--) {
    if (nOkKeys > 0 && okKeys[nOkKeys - 1] === okScores[k]) okCounts[nOkKeys - 1]++;
    else {
      okKeys[nOkKeys] = okScores[k];
      okCounts[nOkKeys++] = 1;
    }
  }
  // Region pixels one by one, descending score, ties in descending position (as the reversed argsort
  // of the official code orders small inputs).
  const order = new Uint32Array(nRegionPixels).map((_, k) => k);
  order.sort((a, b) => regScores[b] - regScores[a] || b - a);
  const regKeys = new Float64Array(nRegionPixels), regSorted = new Float64Array(nRegionPixels);
  for (let k = 0; k < nRegionPixels; k++) {
    regKeys[k] = regScores[order[k]];
    regSorted[k] = regWeights[order[k]];
  }
  const builder = new ProCurveBuilder(nOkKeys + nRegionPixels + 2, nOk, nRegions, limit, mode);
  mergeDescending(okKeys, okCounts, nOkKeys, regKeys, regSorted, nRegionPixels, builder);
  return { builder, nOk, nRegions };
}
