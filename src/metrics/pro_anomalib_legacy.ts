/**
 * AU-PRO as anomalib computed it before its rewrite (PR #3115, November 2025; releases ≤ 2.2): the metric
 * behind many "AUPRO" columns still in the literature, and behind the values above 1 reported in anomalib
 * issues #1651, #2442 and #3718 (`metrics.md` §2). Source: `openvinotoolkit/anomalib`
 * `src/anomalib/metrics/aupro.py` (`_AUPRO.compute_pro`, `compute`, `interp1d`, e.g. at 1b98f56) with
 * torchmetrics' non-binned `binary_roc` and `auc(reorder=True)`.
 *
 * How it differs from the official algorithm:
 * 1. Every region gets its own ROC curve against all background pixels (its TPR is its overlap); the
 *    curve keeps the points with FPR ≤ the limit, plus the next one when the last kept FPR is not
 *    `allclose` to the limit.
 * 2. The kept points are **resampled by their index**, stretched onto as many points as the global ROC
 *    has up to the limit, and the last sample is moved to an interpolated index; both TPR and FPR are
 *    linearly interpolated there, then averaged over regions.
 * 3. The area under the averaged curve is divided by the **last averaged FPR**, not by the limit. When that
 *    endpoint falls short of the limit the value is inflated, and it can exceed 1.
 * 4. torchmetrics applies a float32 sigmoid to the scores of any call whose scores leave [0, 1] (the global
 *    curve and each region's curve decide separately); large scores saturate to 1 and tie. Scores of 0..40
 *    give NaN in the reference, and do here.
 *
 * Arithmetic follows the reference's float32 steps with `Math.fround` (the sigmoid and the final trapezoid
 * sum cannot be bit-identical to torch's vectorised kernels; agreement is ~1e-6).
 *
 * @module
 */
import { labelRegions8 } from "./connected_components.ts";
import { checkMapsAndMasks, nonFiniteScoreError } from "./validate.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

const f = Math.fround;
/** torch.finfo(torch.float32).eps. */
const EPS32 = 2 ** -23;

/** Options of {@linkcode auProAnomalibLegacy}. */
export interface LegacyAuProOptions {
  /** `fpr_limit` (0.3), held as a float32 tensor by the reference. */
  integrationLimit?: number;
}

/** Result of {@linkcode auProAnomalibLegacy}. */
export interface LegacyAuProResult {
  /** The value the old anomalib reports (may exceed 1; NaN where the reference gives NaN). */
  auPro: number;
  integrationLimit: number;
  /** The averaged FPR the area was divided by (the official algorithm divides by the limit). */
  lastFpr: number;
  /** Points of the global ROC with FPR ≤ limit: the length every region's curve is resampled to. */
  curvePoints: number;
  nRegions: number;
  nOkPixels: number;
  /** Whether the global curve saw sigmoid-squashed scores (some score outside [0, 1]). */
  sigmoid: boolean;
  warnings: string[];
}

/** Float32 sigmoid, as torch applies it to out-of-range scores. */
function sigmoid32(x: number): number {
  return f(1 / (1 + Math.exp(-x)));
}

/** Scores sorted descending, with and without the sigmoid, and whether any leaves [0, 1]. */
interface Population {
  raw: Float32Array;
  squashed: Float32Array;
  outside: boolean;
}

function population(values: number[] | Float32Array): Population {
  const raw = Float32Array.from(values).sort().reverse();
  let outside = false;
  for (const v of raw) if (!(v >= 0 && v <= 1)) outside = true;
  return { raw, squashed: raw.map(sigmoid32), outside };
}

/**
 * The ROC points (FPR, TPR) of background vs one positive population, merged by distinct score from the
 * top, with (0, 0) first: torchmetrics `binary_roc(thresholds=None)`. `stop(fpr)` ends the walk after the
 * first point for which it returns true.
 */
function rocPoints(
  bg: Float32Array,
  pos: Float32Array,
  stop: (fpr: number) => boolean,
): { fpr: number[]; tpr: number[] } {
  const fpr = [0], tpr = [0];
  let i = 0, j = 0, fps = 0, tps = 0;
  while (i < bg.length || j < pos.length) {
    const v = i < bg.length && (j >= pos.length || bg[i] >= pos[j]) ? bg[i] : pos[j];
    while (i < bg.length && bg[i] === v) (fps++, i++);
    while (j < pos.length && pos[j] === v) (tps++, j++);
    fpr.push(bg.length > 0 ? f(fps / bg.length) : 0);
    tpr.push(pos.length > 0 ? f(tps / pos.length) : 0);
    if (stop(fpr[fpr.length - 1])) break;
  }
  return { fpr, tpr };
}

/** torch.searchsorted(sorted, value) (left): the first index whose value is ≥ `value`. */
function searchLeft(sorted: ArrayLike<number>, value: number): number {
  let lo = 0, hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** anomalib's `interp1d` in float32: slope with ε in the denominator, left neighbour by searchsorted − 1. */
function interp1d(x: number[], y: number[], at: number): number {
  const k = Math.min(Math.max(searchLeft(x, at) - 1, 0), x.length - 2);
  const slope = f(f(y[k + 1] - y[k]) / f(EPS32 + f(x[k + 1] - x[k])));
  return f(y[k] + f(slope * f(at - x[k])));
}

/** torch.allclose(a, b): |a − b| ≤ 1e-8 + 1e-5·|b|. */
function allclose(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-8 + 1e-5 * Math.abs(b);
}

/**
 * The pre-2.3 anomalib AUPRO of maps and masks (regions: 8-connected, numbered across images in order).
 * Throws on non-finite scores and mismatched sizes; returns NaN with a warning where the reference gives
 * NaN (no region, no OK pixel, saturated scores).
 *
 * @example
 * ```ts
 * const { auPro, lastFpr } = auProAnomalibLegacy(maps, masks); // auPro may exceed 1 when lastFpr < 0.3
 * ```
 */
export function auProAnomalibLegacy(
  maps: ScoreMap[],
  masks: MaskMap[],
  { integrationLimit = 0.3 }: LegacyAuProOptions = {},
): LegacyAuProResult {
  checkMapsAndMasks(maps, masks, "auProAnomalibLegacy");
  if (!(integrationLimit > 0 && integrationLimit <= 1)) {
    throw new RangeError(`auProAnomalibLegacy: integrationLimit ${integrationLimit} is not in (0, 1]`);
  }
  const limit = f(integrationLimit);
  const background: number[] = [];
  const regions: number[][] = [];
  for (let i = 0; i < maps.length; i++) {
    const { width, height, data } = maps[i];
    const { labels, count } = labelRegions8(masks[i].data, width, height);
    const first = regions.length;
    for (let r = 0; r < count; r++) regions.push([]);
    for (let p = 0; p < data.length; p++) {
      if (!Number.isFinite(data[p])) throw nonFiniteScoreError(i, maps[i], p);
      const v = f(data[p]); // anomalib's tensors are float32
      if (labels[p] === 0) background.push(v);
      else regions[first + labels[p] - 1].push(v);
    }
  }
  const warnings: string[] = [];
  const R = regions.length;
  const bg = population(background);
  const pops = regions.map(population);
  const allDefect = population(regions.flat());
  const globalSigmoid = bg.outside || allDefect.outside;
  const result = (auPro: number, lastFpr: number, curvePoints: number): LegacyAuProResult => ({
    auPro,
    integrationLimit,
    lastFpr,
    curvePoints,
    nRegions: R,
    nOkPixels: background.length,
    sigmoid: globalSigmoid,
    warnings,
  });
  if (R === 0 || background.length === 0) {
    warnings.push(
      R === 0
        ? "no defect region in any mask: the reference divides by 0 regions (NaN)"
        : "no OK pixel: FPR is undefined (NaN)",
    );
    return result(NaN, NaN, 0);
  }
  // The global ROC decides how many points every region's curve is resampled to.
  const global = rocPoints(
    globalSigmoid ? bg.squashed : bg.raw,
    globalSigmoid ? allDefect.squashed : allDefect.raw,
    (fpr) => fpr > limit,
  );
  const out = global.fpr.filter((v) => v <= limit).length;
  const tprSum = new Float32Array(out), fprSum = new Float32Array(out);
  for (let r = 0; r < R; r++) {
    const squash = bg.outside || pops[r].outside;
    const b = squash ? bg.squashed : bg.raw, p = squash ? pops[r].squashed : pops[r].raw;
    // Points up to the first FPR > limit; if everything at or below the limit has FPR 0, the reference
    // widens its limit to the smallest FPR above it, so walk on to the first point past that one.
    let maxBelow = 0, widened = -1;
    const curve = rocPoints(b, p, (fpr) => {
      if (widened < 0) {
        if (fpr <= limit) {
          maxBelow = Math.max(maxBelow, fpr);
          return false;
        }
        if (maxBelow > 0) return true;
        widened = fpr;
        return false;
      }
      return fpr > widened;
    });
    const fprLimit = maxBelow === 0 && widened >= 0 ? widened : limit;
    const kept: number[] = [];
    for (let k = 0; k < curve.fpr.length && curve.fpr[k] <= fprLimit; k++) kept.push(k);
    let slope = 0, interp = false;
    if (!allclose(curve.fpr[kept[kept.length - 1]], limit)) {
      const tmp = searchLeft(curve.fpr, limit);
      kept.push(tmp);
      slope = f(1 - f(f(curve.fpr[tmp] - limit) / f(curve.fpr[tmp] - curve.fpr[tmp - 1])));
      interp = true;
    }
    const maxIndex = Math.max(...kept);
    const x = kept.map((k) => f(f(k / maxIndex) * (out - 1)));
    const ty = kept.map((k) => curve.tpr[k]), fy = kept.map((k) => curve.fpr[k]);
    const last = interp ? f(x[x.length - 2] + f(f(x[x.length - 1] - x[x.length - 2]) * slope)) : out - 1;
    for (let j = 0; j < out; j++) {
      const at = j === out - 1 ? last : j;
      tprSum[j] = f(tprSum[j] + interp1d(x, ty, at));
      fprSum[j] = f(fprSum[j] + interp1d(x, fy, at));
    }
  }
  const fpr = Array.from(fprSum, (v) => f(v / R)), tpr = Array.from(tprSum, (v) => f(v / R));
  // auc(fpr, tpr, reorder=True): stable ascending sort on FPR, then the trapezoid.
  const order = fpr.map((_, i) => i).sort((a, b) => fpr[a] - fpr[b] || a - b);
  let area = 0;
  for (let k = 0; k + 1 < order.length; k++) {
    const a = order[k], c = order[k + 1];
    area += f(f(fpr[c] - fpr[a]) * f(f(tpr[c] + tpr[a]) / 2));
  }
  const lastFpr = fpr[fpr.length - 1];
  const auPro = f(f(area) / lastFpr);
  if (!Number.isFinite(auPro)) {
    warnings.push("the averaged curve is degenerate (saturated or tied scores): NaN, as the reference");
  }
  if (auPro > 1) {
    warnings.push(`AU-PRO ${auPro} > 1: the last averaged FPR ${lastFpr} fell short of the limit`);
  }
  return result(auPro, lastFpr, out);
}
