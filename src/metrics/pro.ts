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
 * part of the curve up to the limit is resolved (see `score_keys.ts`). Region weights are summed one
 * pixel at a time in score order and the trapezoids in NumPy's pairwise order, so the result is
 * bit-identical to the official code (checked against NumPy 2.4.6, all three FPR modes, up to
 * 18×1024² pixels) whenever no two region pixels tie; within a tie the official order is that of an
 * unstable argsort, and results differ by ≤ ~1e-15.
 *
 * @module
 */
import { checkMapsAndMasks, nonFiniteScoreError } from "./validate.ts";
import { labelRegions8 } from "./connected_components.ts";
import {
  type BucketedKeys,
  BUCKETS,
  BucketScratch,
  resolveBucket,
  sortBucketDescending,
} from "./score_keys.ts";
import { allFloat32, PooledPixelIndex } from "./pixel_index.ts";
import { PairwiseStream } from "./trapezoid.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/**
 * The ways the FPR of each curve point can be rounded:
 * - `float32`: the official code under NumPy ≥ 2, `fround(fround(count) / nOk)` (the default);
 * - `float32_numpy1`: the official code under NumPy 1.x (the script pins 1.18.5), `fround(count) / fround(nOk)` in float32;
 * - `float64`: exact `count / nOk`.
 * They differ by ≤ ~5e-8 in AU-PRO; `float32` and `float32_numpy1` only when N_ok > 2²⁴.
 */
export const FPR_MODES = ["float32", "float32_numpy1", "float64"] as const;

/** An FPR rounding mode (see {@linkcode FPR_MODES}). */
export type FprMode = typeof FPR_MODES[number];

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

const FPR_MODE_CODE: Record<FprMode, number> = { float32: 0, float32_numpy1: 1, float64: 2 };

/**
 * Consumes curve points in order. The walk runs twice: first `counting` (finds `ins`, the index of the
 * first point with FPR > limit, as `bisect_right` would, and whether the limit is itself an FPR value),
 * then streaming, when it sums the trapezoids of the points up to the limit in NumPy's pairwise order,
 * adds the official interpolation correction and keeps a thinned copy of the curve for the result.
 */
class CurveSink {
  index = 0;
  ins = -1;
  containsLimit = false;
  area = 0;
  fpr: Float64Array = new Float64Array(0);
  pro: Float64Array = new Float64Array(0);
  readonly #limit: number;
  readonly #streaming: boolean;
  readonly #terms: PairwiseStream | null = null;
  #nTerms = 0;
  #prevX = 0;
  #prevY = 0;
  #nextKeep = 0;
  #kept = 0;
  #keepEvery = 1;
  #kept0 = 0;

  /**
   * `counted` is the result of the counting walk (absent for that walk itself); `maxPoints` bounds the
   * returned curve.
   */
  constructor(limit: number, counted?: CurveSink, maxPoints = 10000) {
    this.#limit = limit;
    this.#streaming = counted !== undefined;
    if (counted) {
      this.ins = counted.ins;
      this.containsLimit = counted.containsLimit;
      const total = counted.ins >= 0 ? counted.ins + 1 : counted.index; // points through the first past the limit
      const pointsToLimit = counted.ins >= 0 ? counted.ins : counted.index; // x <= limit
      this.#nTerms = Math.max(pointsToLimit - 1, 0);
      this.#terms = new PairwiseStream(this.#nTerms);
      const kept = Math.max(2, Math.min(total, maxPoints));
      this.fpr = new Float64Array(kept);
      this.pro = new Float64Array(kept);
      this.#keepEvery = (total - 1) / (kept - 1);
      this.#kept0 = kept;
    }
  }

  /** Takes point number `index` (FPR x, PRO y); returns false when the walk can stop. */
  point(x: number, y: number): boolean {
    const k = this.index++;
    if (!this.#streaming) {
      if (x === this.#limit) this.containsLimit = true;
      if (x > this.#limit) {
        this.ins = k;
        return false;
      }
      return true;
    }
    if (k >= 1 && k <= this.#nTerms) this.#terms!.add(0.5 * (y + this.#prevY) * (x - this.#prevX));
    while (this.#kept < this.#kept0 && Math.round(this.#nextKeep) === k) {
      this.fpr[this.#kept] = x;
      this.pro[this.#kept] = y;
      this.#kept++;
      this.#nextKeep = this.#kept * this.#keepEvery;
    }
    if (k === this.ins) {
      let correction = 0;
      if (!this.containsLimit) {
        const x0 = this.#prevX, y0 = this.#prevY, limit = this.#limit;
        const yInterp = y0 + ((y - y0) * (limit - x0) / (x - x0));
        correction = 0.5 * (yInterp + y0) * (limit - x0);
      }
      this.area = this.#terms!.sum() + correction;
      return false;
    }
    this.#prevX = x;
    this.#prevY = y;
    return true;
  }

  /** Ends a walk that never passed the limit (limit 1): the area is the plain trapezoid sum. */
  end(): void {
    if (this.#streaming && this.ins < 0) this.area = this.#terms!.sum();
  }
}

/** Turns cumulative counts into curve points: FPR rounded per mode, PRO = Σ weights / R, both clipped. */
class CurveWalk {
  okCum = 0.5 - 0.5; // a double field from the start
  proCum = 0.5 - 0.5;
  constructor(
    readonly nOk: number,
    readonly nRegions: number,
    readonly mode: number,
    readonly sink: CurveSink,
  ) {}

  /** Emits the official (0, 0) start. */
  start(): boolean {
    return this.sink.point(0, 0);
  }

  /**
   * Merges OK pixels (distinct keys, descending, with counts) and region pixels (one per pixel,
   * descending) into points, one per distinct key; region weights are added one at a time, as
   * `np.cumsum` does. Returns false once the sink stops the walk.
   */
  merge(
    okKeys: ArrayLike<number>,
    okCounts: ArrayLike<number>,
    nOkKeys: number,
    regKeys: ArrayLike<number>,
    regWeights: ArrayLike<number>,
    nReg: number,
  ): boolean {
    const sink = this.sink, mode = this.mode, nOk = this.nOk, nOk32 = Math.fround(nOk);
    const nRegions = this.nRegions;
    let okCum = this.okCum, proCum = this.proCum;
    let i = 0, j = 0, going = true;
    while (going && (i < nOkKeys || j < nReg)) {
      const t = j >= nReg ? okKeys[i] : i >= nOkKeys ? regKeys[j] : Math.max(okKeys[i], regKeys[j]);
      if (i < nOkKeys && okKeys[i] === t) okCum += okCounts[i++];
      while (j < nReg && regKeys[j] === t) proCum += regWeights[j++];
      // Official: cumsum in uint32, cast to float32, divided by N_ok (NumPy 2: in float64, rounded to float32).
      const fpr = mode === 0
        ? Math.fround(Math.fround(okCum) / nOk)
        : mode === 1
        ? Math.fround(Math.fround(okCum) / nOk32)
        : okCum / nOk;
      const pro = proCum / nRegions;
      going = sink.point(fpr > 1 ? 1 : fpr, pro > 1 ? 1 : pro); // np.clip(..., a_max=1)
    }
    this.okCum = okCum;
    this.proCum = proCum;
    return going;
  }

  /** Emits the official (1, 1) end point. */
  finish(): void {
    if (this.sink.point(1, 1)) this.sink.end();
  }
}

/** A population source for the two walks. */
interface CurveSource {
  nOk: number;
  nRegions: number;
  /** Runs one walk into `walk` (start, merges, finish). */
  run(walk: CurveWalk): void;
  scoreDtype: "float32" | "float64";
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
  const settings = auProSettings(options);
  checkMapsAndMasks(maps, masks, "auPro");
  checkPixelTotal(maps, "auPro");
  if (!allFloat32(maps)) return auProOfSource(float64Source(maps, masks), settings);
  const index = new PooledPixelIndex(maps, masks);
  const lowest = lowestCurveBucket(index, settings);
  if (index.nNormal > 0 && index.nDefect > 0) {
    index.record({ normalFrom: lowest, normalWhereDefect: false, defectFrom: lowest, weighted: true });
  }
  return auProOfIndex(index, lowest, masks, settings);
}

/**
 * AU-PRO through the general path whatever the maps hold: every score sorted as a double, no buckets. The
 * same numbers as {@linkcode auPro}; the reference the bucketed path is tested against. Internal to
 * `src/metrics`.
 */
export function auProBySort(maps: ScoreMap[], masks: MaskMap[], options: AuProOptions = {}): AuProResult {
  const settings = auProSettings(options);
  checkMapsAndMasks(maps, masks, "auPro");
  checkPixelTotal(maps, "auPro");
  return auProOfSource(float64Source(maps, masks), settings);
}

/** Validated {@linkcode AuProOptions} with defaults, plus the FPR mode's code. Internal to `src/metrics`. */
export interface AuProSettings {
  integrationLimit: number;
  fprMode: FprMode;
  mode: number;
  maxCurvePoints: number;
}

/** Validates `options` and fills in the defaults. Internal to `src/metrics`. */
export function auProSettings(options: AuProOptions): AuProSettings {
  const { integrationLimit = 0.3, fprMode = "float32", maxCurvePoints = 10000 } = options;
  if (!(integrationLimit > 0 && integrationLimit <= 1)) {
    throw new RangeError(`auPro: integration limit must be in (0, 1], got ${integrationLimit}`);
  }
  if (!(fprMode in FPR_MODE_CODE)) {
    throw new RangeError(`auPro: fprMode must be one of ${FPR_MODES.join(", ")}, got ${fprMode}`);
  }
  return { integrationLimit, fprMode, mode: FPR_MODE_CODE[fprMode], maxCurvePoints };
}

/** Refuses more pixels than the official uint32 cumsum holds. Internal to `src/metrics`. */
export function checkPixelTotal(maps: ScoreMap[], metric: string): void {
  let total = 0;
  for (const m of maps) total += m.data.length;
  if (total >= 2 ** 32) {
    throw new RangeError(
      `${metric}: ${total} pixels; at most 2³² − 1 are supported (as the official uint32 cumsum)`,
    );
  }
}

/** Runs the two walks over `source` (or the degenerate curve) and assembles the result. */
function auProOfSource(source: CurveSource, settings: AuProSettings): AuProResult {
  const { integrationLimit, fprMode, mode, maxCurvePoints } = settings;
  const { nOk, nRegions } = source;
  const warnings: string[] = [];
  const degenerate = nOk === 0 || nRegions === 0;
  let sink: CurveSink;
  if (degenerate) {
    // Official: every real point has a NaN FPR or PRO and `trapezoid` drops it, leaving (0, 0)–(1, 1).
    const counting = new CurveSink(integrationLimit);
    counting.point(0, 0) && counting.point(1, 1);
    sink = new CurveSink(integrationLimit, counting, maxCurvePoints);
    if (sink.point(0, 0) && sink.point(1, 1)) sink.end();
    const why = nRegions === 0 ? "no defect region in any mask" : "no normal (mask 0) pixel in any image";
    warnings.push(
      `AU-PRO is degenerate: ${why} (regions ${nRegions}, OK pixels ${nOk}); reporting the official code's value ` +
        `limit/2 = ${integrationLimit / 2}, which measures nothing`,
    );
  } else {
    const counting = new CurveSink(integrationLimit);
    source.run(new CurveWalk(nOk, nRegions, mode, counting));
    sink = new CurveSink(integrationLimit, counting, maxCurvePoints);
    source.run(new CurveWalk(nOk, nRegions, mode, sink));
  }
  return {
    auPro: sink.area / integrationLimit,
    integrationLimit,
    fprMode,
    nRegions,
    nOkPixels: nOk,
    degenerate,
    warnings,
    curve: { fpr: sink.fpr, pro: sink.pro },
    nCurvePoints: sink.ins >= 0 ? sink.ins + 1 : sink.index,
    scoreDtype: source.scoreDtype,
  };
}

/**
 * The lowest bucket the curve reaches: the one in which the FPR passes the limit (0 if it never does).
 * Nothing below it can change the area, so AU-PRO needs no key of a lower bucket. Internal to
 * `src/metrics`.
 */
export function lowestCurveBucket(index: PooledPixelIndex, settings: AuProSettings): number {
  return lowestBucketOf([index.normal.counts], index.nNormal, settings);
}

/** {@linkcode lowestCurveBucket} for normal pixels counted in several arrays (their sum, `nOk` in all). */
function lowestBucketOf(normalCounts: readonly Uint32Array[], nOk: number, settings: AuProSettings): number {
  const { integrationLimit: limit, mode } = settings;
  const nOk32 = Math.fround(nOk);
  for (let b = BUCKETS - 1, cum = 0; b >= 0; b--) {
    for (const counts of normalCounts) cum += counts[b];
    const fpr = mode === 0
      ? Math.fround(Math.fround(cum) / nOk)
      : mode === 1
      ? Math.fround(Math.fround(cum) / nOk32)
      : cum / nOk;
    if (Math.min(fpr, 1) > limit) return b;
  }
  return 0;
}

/**
 * AU-PRO from a float32 index whose normal and defect pixels of every bucket ≥ `lowest` are recorded with
 * region weights (or that is degenerate and not recorded at all). Internal to `src/metrics`.
 */
export function auProOfIndex(
  index: PooledPixelIndex,
  lowest: number,
  masks: MaskMap[],
  settings: AuProSettings,
): AuProResult {
  return auProOfSource(indexSource([index.normal], index.nNormal, index, lowest, masks), settings);
}

/**
 * The curve bucket by bucket from the top down to `lowest` (module doc): OK pixels from the populations
 * `ok` (`nOk` in all, every bucket ≥ `lowest` recorded), region pixels from `index` (recorded with
 * weights, or the curve is degenerate and nothing is recorded).
 */
function indexSource(
  ok: readonly BucketedKeys[],
  nOk: number,
  index: PooledPixelIndex,
  lowest: number,
  masks: MaskMap[],
): CurveSource {
  // R = 0 exactly when no mask has a defect pixel.
  if (nOk === 0 || index.nDefect === 0) {
    return { nOk, nRegions: countRegions(masks), run() {}, scoreDtype: "float32" };
  }
  const regions = index.defect;
  let largestRegionBucket = 0;
  for (let b = lowest; b < BUCKETS; b++) {
    largestRegionBucket = Math.max(largestRegionBucket, regions.size(b));
  }
  const buffers = new BucketScratch();
  const okOutKeys = new Uint32Array(BUCKETS), okOutCounts = new Float64Array(BUCKETS);
  const regKeys = new Uint32Array(largestRegionBucket), regKeysTmp = new Uint16Array(largestRegionBucket);
  const regWeights = new Float64Array(largestRegionBucket);
  const regWeightsTmp = new Float64Array(largestRegionBucket);
  return {
    nOk,
    nRegions: index.nRegions,
    scoreDtype: "float32",
    run(walk: CurveWalk): void {
      if (!walk.start()) return;
      for (let b = BUCKETS - 1; b >= lowest; b--) {
        const nOkKeys = resolveBucket(ok, b, buffers, okOutKeys, okOutCounts);
        const nReg = sortBucketDescending(regions, b, regKeys, regWeights, regKeysTmp, regWeightsTmp);
        if (nOkKeys === 0 && nReg === 0) continue;
        if (!walk.merge(okOutKeys, okOutCounts, nOkKeys, regKeys, regWeights, nReg)) return;
      }
      walk.finish();
    },
  };
}

/** Maps and masks of one set of images. */
export interface MapSet {
  maps: ScoreMap[];
  masks: MaskMap[];
}

/**
 * AU-PRO of each group of images taken together with the same defect-free images, e.g. each defect type
 * of a category against its good images: result k is `auPro([...shared.maps, ...groups[k].maps], …)` bit
 * for bit. The shared images are validated, counted and recorded once for all groups instead of once per
 * group; their OK pixels join each group's by bucket counts, which is all the FPR needs. When a map is not
 * float32-exact, or a shared mask holds a defect pixel (whose weight would have to be summed in the
 * images' order), each group is computed on its own with {@linkcode auPro}.
 *
 * @example
 * ```ts
 * const good = { maps: [goodMap], masks: [emptyMask] };
 * const [crack, hole] = auProWithSharedNormals(good, [cracks, holes]);
 * ```
 */
export function auProWithSharedNormals(
  shared: MapSet,
  groups: readonly MapSet[],
  options: AuProOptions = {},
): AuProResult[] {
  const settings = auProSettings(options);
  const separately = () =>
    groups.map((g) => auPro([...shared.maps, ...g.maps], [...shared.masks, ...g.masks], options));
  if (shared.maps.length + shared.masks.length > 0) checkMapsAndMasks(shared.maps, shared.masks, "auPro");
  for (const g of groups) {
    checkMapsAndMasks(g.maps, g.masks, "auPro");
    checkPixelTotal([...shared.maps, ...g.maps], "auPro");
  }
  if (!allFloat32(shared.maps) || groups.some((g) => !allFloat32(g.maps))) return separately();
  const common = new PooledPixelIndex(shared.maps, shared.masks);
  if (common.nDefect > 0) return separately();
  const indexes = groups.map((g) => new PooledPixelIndex(g.maps, g.masks));
  const lowests = indexes.map((index) =>
    lowestBucketOf([common.normal.counts, index.normal.counts], common.nNormal + index.nNormal, settings)
  );
  const curved = indexes.map((index) => common.nNormal + index.nNormal > 0 && index.nDefect > 0);
  if (curved.some((c) => c)) {
    const from = Math.min(...lowests.filter((_, k) => curved[k]));
    common.record({ normalFrom: from, normalWhereDefect: false, defectFrom: BUCKETS, weighted: false });
  }
  return indexes.map((index, k) => {
    const lowest = lowests[k];
    if (curved[k]) {
      index.record({ normalFrom: lowest, normalWhereDefect: false, defectFrom: lowest, weighted: true });
    }
    const nOk = common.nNormal + index.nNormal;
    return auProOfSource(
      indexSource([common.normal, index.normal], nOk, index, lowest, groups[k].masks),
      settings,
    );
  });
}

/** R over all masks (only needed for reporting in degenerate cases). */
function countRegions(masks: MaskMap[]): number {
  let total = 0;
  for (const { width, height, data } of masks) total += labelRegions8(data, width, height).count;
  return total;
}

/** General path for float64 scores that float32 cannot hold exactly: sort the scores themselves. */
function float64Source(maps: ScoreMap[], masks: MaskMap[]): CurveSource {
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
  return {
    nOk,
    nRegions,
    scoreDtype: "float64",
    run(walk: CurveWalk): void {
      if (!walk.start()) return;
      if (!walk.merge(okKeys, okCounts, nOkKeys, regKeys, regSorted, nRegionPixels)) return;
      walk.finish();
    },
  };
}
