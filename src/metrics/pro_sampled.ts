/**
 * Approximate AU-PRO as two widely copied codebases compute it: a fixed number of score thresholds swept
 * between the smallest and the largest score, the points with FPR below the limit kept, their FPR min–max
 * rescaled to [0, 1], and sklearn's `auc`. Neither interpolates at the limit nor divides by it; the
 * rescaling stretches whatever FPR range the sweep happened to reach. Published AU-PRO values made this way
 * are typically 1e-3 to 5e-3 off the official algorithm (`metrics.md` §2), more on maps with ties.
 *
 * - {@linkcode auProCflow}: `gudovskiy/cflow-ad` `train.py` (taken from YoungGod/DFR): 1000 thresholds
 *   `max − k·(max − min)/1000`, positive if score > t, keep FPR ≤ 0.3; a region's overlap is counted over
 *   its **hole-filled** bounding-box image (`regionprops(...).filled_image`) but divided by its area
 *   without holes, so a ring-shaped defect can overlap more than 100 %.
 * - {@linkcode auProAder}: `zhangzjn/ADer` `util/metric.py` `Evaluator.cal_pro_score` (also the
 *   `cal_pro_score` of several CLIP-based repositories, "ref: cflow-ad"): thresholds
 *   `np.arange(min, max, (max − min)/max_step)` (default 200; ADer's configs pass `max_step_aupro=100`),
 *   positive if score > t, keep FPR < 0.3 (strict), regions without hole filling.
 *
 * Both label regions with 8-connectivity (skimage `label` with its default `connectivity = ndim`), pool the
 * FPR over the OK pixels of all images, and average the overlap over all regions of all images. Scores
 * are compared in float64.
 *
 * @module
 */
import { labelRegions8 } from "./connected_components.ts";
import { pairwiseSum } from "./trapezoid.ts";
import { checkMapsAndMasks, finiteScoreRange, nonFiniteScoreError } from "./validate.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/** Options of the sampled AU-PRO dialects. */
export interface SampledAuProOptions {
  /** Number of threshold steps (cflow: 1000; ADer: 200 by default, 100 in its configs). */
  steps?: number;
  /** FPR limit (0.3). */
  integrationLimit?: number;
}

/** Result of a sampled AU-PRO. */
export interface SampledAuProResult {
  /** The area as the reference computes it (NaN where the reference gives NaN, with a warning). */
  auPro: number;
  integrationLimit: number;
  /** Thresholds swept. */
  thresholds: number;
  /** Curve points kept below the limit (the area uses these only). */
  pointsKept: number;
  nRegions: number;
  nOkPixels: number;
  warnings: string[];
}

/** Pixel counts per threshold of the sweep, from difference arrays. */
interface Sweep {
  /** OK pixels counted positive at each threshold. */
  falsePositives: Float64Array;
  /** Per region: pixels of the (possibly hole-filled) region counted positive, at each threshold. */
  overlaps: Float64Array[];
  /** Per region: its area (pixels, holes excluded). */
  areas: number[];
  nOk: number;
}

/**
 * Range of sweep indices at which a pixel of score `v` is positive (`v > t`): thresholds descending
 * (cflow) give a suffix [first, T), ascending (ADer) a prefix [0, count).
 */
function positiveRange(
  thresholds: Float64Array,
  descending: boolean,
  v: number,
  guess: number,
): [number, number] {
  const T = thresholds.length;
  let k = Math.min(Math.max(Number.isFinite(guess) ? Math.floor(guess) : 0, 0), T);
  if (descending) {
    // first k with t_k < v
    while (k > 0 && thresholds[k - 1] < v) k--;
    while (k < T && !(thresholds[k] < v)) k++;
    return [k, T];
  }
  // count of thresholds t_k < v (ascending)
  while (k > 0 && !(thresholds[k - 1] < v)) k--;
  while (k < T && thresholds[k] < v) k++;
  return [0, k];
}

/** Pixels of the region's bounding box that are holes: not in the region, not 8-connected to the box's edge. */
function holesOf(
  labels: Int32Array,
  width: number,
  label: number,
  box: [number, number, number, number],
): number[] {
  const [y0, x0, y1, x1] = box; // inclusive
  const bw = x1 - x0 + 1, bh = y1 - y0 + 1;
  const outside = new Uint8Array(bw * bh); // 1 = background reachable from the edge
  const stack: number[] = [];
  const inRegion = (by: number, bx: number) => labels[(y0 + by) * width + x0 + bx] === label;
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      if ((by === 0 || bx === 0 || by === bh - 1 || bx === bw - 1) && !inRegion(by, bx)) {
        outside[by * bw + bx] = 1;
        stack.push(by * bw + bx);
      }
    }
  }
  while (stack.length > 0) {
    const at = stack.pop()!;
    const by = Math.floor(at / bw), bx = at - by * bw;
    for (let dy = -1; dy <= 1; dy++) {
      for (let dx = -1; dx <= 1; dx++) {
        const ny = by + dy, nx = bx + dx;
        if (ny < 0 || nx < 0 || ny >= bh || nx >= bw) continue;
        const n = ny * bw + nx;
        if (outside[n] || inRegion(ny, nx)) continue;
        outside[n] = 1;
        stack.push(n);
      }
    }
  }
  const holes: number[] = [];
  for (let by = 0; by < bh; by++) {
    for (let bx = 0; bx < bw; bx++) {
      if (!outside[by * bw + bx] && !inRegion(by, bx)) holes.push((y0 + by) * width + x0 + bx);
    }
  }
  return holes;
}

/** Counts, for every threshold, the positive OK pixels and the positive pixels of each region. */
function sweep(
  maps: ScoreMap[],
  masks: MaskMap[],
  thresholds: Float64Array,
  descending: boolean,
  guess: (v: number) => number,
  fillHoles: boolean,
): Sweep {
  const T = thresholds.length;
  const fpDiff = new Float64Array(T + 1);
  const overlapDiffs: Float64Array[] = [];
  const areas: number[] = [];
  let nOk = 0;
  for (let i = 0; i < maps.length; i++) {
    const { width, height, data } = maps[i];
    const mask = masks[i].data;
    const { labels, count, sizes } = labelRegions8(mask, width, height);
    const first = overlapDiffs.length;
    const boxes: [number, number, number, number][] = [];
    for (let r = 1; r <= count; r++) {
      overlapDiffs.push(new Float64Array(T + 1));
      areas.push(sizes[r]);
      boxes.push([height, width, -1, -1]);
    }
    const ranges = new Int32Array(2 * data.length);
    for (let p = 0; p < data.length; p++) {
      const v = data[p];
      if (!Number.isFinite(v)) throw nonFiniteScoreError(i, maps[i], p);
      const [a, b] = positiveRange(thresholds, descending, v, guess(v));
      ranges[2 * p] = a;
      ranges[2 * p + 1] = b;
      const l = labels[p];
      if (l === 0) {
        nOk++;
        fpDiff[a]++;
        fpDiff[b]--;
      } else {
        const d = overlapDiffs[first + l - 1];
        d[a]++;
        d[b]--;
        const box = boxes[l - 1], y = Math.floor(p / width), x = p - y * width;
        box[0] = Math.min(box[0], y);
        box[1] = Math.min(box[1], x);
        box[2] = Math.max(box[2], y);
        box[3] = Math.max(box[3], x);
      }
    }
    if (fillHoles) {
      for (let r = 1; r <= count; r++) {
        const d = overlapDiffs[first + r - 1];
        for (const p of holesOf(labels, width, r, boxes[r - 1])) {
          d[ranges[2 * p]]++;
          d[ranges[2 * p + 1]]--;
        }
      }
    }
  }
  const cumulate = (diff: Float64Array) => {
    const out = new Float64Array(T);
    let run = 0;
    for (let k = 0; k < T; k++) out[k] = run += diff[k];
    return out;
  };
  return { falsePositives: cumulate(fpDiff), overlaps: overlapDiffs.map(cumulate), areas, nOk };
}

/** sklearn `auc(x, y)` (x monotonic either way) with NumPy's pairwise trapezoid sum. */
function sklearnAuc(x: number[], y: number[]): number {
  let increasing = true, decreasing = true;
  for (let i = 1; i < x.length; i++) {
    if (x[i] < x[i - 1]) increasing = false;
    if (x[i] > x[i - 1]) decreasing = false;
  }
  if (!increasing && !decreasing) throw new RangeError("auc: x is neither increasing nor decreasing");
  const direction = increasing ? 1 : -1;
  return direction * pairwiseSum(x.length - 1, (i) => (x[i + 1] - x[i]) * (y[i + 1] + y[i]) / 2.0);
}

/** Curve → kept points → min–max rescaled FPR → area, with the reference's degenerate cases made visible. */
function finish(
  s: Sweep,
  thresholds: number,
  limit: number,
  keep: (fpr: number) => boolean,
): SampledAuProResult {
  const warnings: string[] = [];
  const fprs: number[] = [], pros: number[] = [];
  const R = s.areas.length;
  if (R === 0) warnings.push("no defect region in any mask: the PRO mean is NaN, as in the reference");
  if (s.nOk === 0) warnings.push("no OK pixel: the FPR is NaN, as in the reference");
  for (let k = 0; k < thresholds; k++) {
    const fpr = s.falsePositives[k] / s.nOk;
    if (!keep(fpr)) continue;
    fprs.push(fpr);
    pros.push(pairwiseSum(R, (r) => s.overlaps[r][k] / s.areas[r]) / R); // np.array(pro).mean()
  }
  let auPro = NaN;
  if (fprs.length < 2) {
    warnings.push(
      `${fprs.length} threshold(s) below FPR ${limit}: too few to integrate; the reference gives NaN`,
    );
  } else {
    const lo = Math.min(...fprs), hi = Math.max(...fprs);
    if (hi === lo) warnings.push("every kept point has the same FPR: the rescaling divides by zero (NaN)");
    else auPro = sklearnAuc(fprs.map((f) => (f - lo) / (hi - lo)), pros);
  }
  return {
    auPro,
    integrationLimit: limit,
    thresholds,
    pointsKept: fprs.length,
    nRegions: R,
    nOkPixels: s.nOk,
    warnings,
  };
}

function checkOptions(steps: number, limit: number, metric: string): void {
  if (!Number.isInteger(steps) || steps < 1) {
    throw new RangeError(`${metric}: steps ${steps} is not a positive integer`);
  }
  if (!(limit > 0 && limit <= 1)) {
    throw new RangeError(`${metric}: integrationLimit ${limit} is not in (0, 1]`);
  }
}

/**
 * cflow-ad's AU-PRO: `steps` thresholds from the maximum down, FPR ≤ limit kept and min–max rescaled,
 * overlap over hole-filled regions (see the module doc).
 *
 * @example
 * ```ts
 * const { auPro } = auProCflow(maps, masks); // 1000 thresholds, FPR ≤ 0.3
 * ```
 */
export function auProCflow(
  maps: ScoreMap[],
  masks: MaskMap[],
  { steps = 1000, integrationLimit = 0.3 }: SampledAuProOptions = {},
): SampledAuProResult {
  checkMapsAndMasks(maps, masks, "auProCflow");
  checkOptions(steps, integrationLimit, "auProCflow");
  const [min, max] = finiteScoreRange(maps);
  const delta = (max - min) / steps;
  const thresholds = Float64Array.from({ length: steps }, (_, k) => max - k * delta); // thred = max_th − step·delta
  const s = sweep(maps, masks, thresholds, true, (v) => (delta > 0 ? (max - v) / delta : 0), true);
  return finish(s, steps, integrationLimit, (fpr) => fpr <= integrationLimit);
}

/**
 * ADer's AU-PRO (`cal_pro_score`): `np.arange(min, max, (max − min)/steps)` thresholds (NumPy's length
 * `ceil((max − min)/delta)` and fill rule `min + i·((min + delta) − min)`), FPR < limit kept and min–max
 * rescaled, plain regions (see the module doc).
 *
 * @example
 * ```ts
 * const { auPro } = auProAder(maps, masks, { steps: 100 }); // as ADer's configs run it
 * ```
 */
export function auProAder(
  maps: ScoreMap[],
  masks: MaskMap[],
  { steps = 200, integrationLimit = 0.3 }: SampledAuProOptions = {},
): SampledAuProResult {
  checkMapsAndMasks(maps, masks, "auProAder");
  checkOptions(steps, integrationLimit, "auProAder");
  const [min, max] = finiteScoreRange(maps);
  const delta = (max - min) / steps;
  if (!(delta > 0)) {
    throw new RangeError("auProAder: every score is equal; np.arange(min, max, 0) fails in the reference");
  }
  const length = Math.ceil((max - min) / delta);
  const step = (min + delta) - min;
  const thresholds = Float64Array.from(
    { length },
    (_, i) => (i === 0 ? min : i === 1 ? min + delta : min + i * step),
  );
  const s = sweep(maps, masks, thresholds, false, (v) => (v - min) / step, false);
  return finish(s, length, integrationLimit, (fpr) => fpr < integrationLimit);
}
