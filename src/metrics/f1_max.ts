/**
 * F1-max: the best F1 = 2PR/(P + R) over all thresholds, the "F1-max" column of ADer and anomalib tables.
 *
 * - {@linkcode f1MaxImage}: image scores against image labels, over every distinct score (positive if
 *   score ≥ t), i.e. the points of sklearn's `precision_recall_curve`. ADer `mF1_max_sp_max`
 *   (`zhangzjn/ADer` `util/metric.py`: max of the finite `2PR/(P+R)`) and anomalib `F1Max`
 *   (`2PR/(P+R+1e-10)` on torchmetrics' curve) give the same maximum up to that 1e-10.
 * - {@linkcode f1MaxPixel}: the same over all pixels of all maps pooled.
 * - {@linkcode f1MaxPixelAder}: ADer's `mF1_max_px`, which is not that: the maps are min–max normalised
 *   over the whole set, only the 21 thresholds 0, 0.05, …, 1 are tried (positive if > t), and ε = 1e-8
 *   enters every ratio: P = I/(#pred + ε), R = I/(#gt + ε), F1 = 2PR/(P + R + ε).
 *
 * @module
 */
import { tieGroups } from "./roc.ts";
import { walkPooledScores } from "./pixel.ts";
import { checkMapsAndMasks, finiteScoreRange, pooledPixelCounts } from "./validate.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/** Result of {@linkcode f1MaxImage}. */
export interface F1Max {
  /** The best F1. */
  f1: number;
  /** The threshold reaching it (positive if score ≥ threshold). */
  threshold: number;
}

/** F1 at one operating point, 2PR/(P + R) as sklearn-based code computes it; 0 when P + R = 0. */
function f1Of(tp: number, fp: number, positives: number): number {
  const p = tp / (tp + fp), r = tp / positives;
  return p + r > 0 ? (2 * p * r) / (p + r) : 0;
}

/**
 * Best F1 over the distinct image scores (positive if score ≥ t). Throws when only one class is present
 * or a score is not finite.
 *
 * @example
 * ```ts
 * f1MaxImage([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // { f1: 0.8, threshold: 0.35 }
 * ```
 */
export function f1MaxImage(scores: ArrayLike<number>, labels: ArrayLike<number>): F1Max {
  const g = tieGroups(scores, labels, "f1MaxImage");
  let tp = 0, fp = 0, best = 0, threshold = g.thresholds[0];
  for (let i = 0; i < g.thresholds.length; i++) {
    tp += g.positives[i];
    fp += g.negatives[i];
    const f1 = f1Of(tp, fp, g.totalPositives);
    if (f1 > best) {
      best = f1;
      threshold = g.thresholds[i];
    }
  }
  return { f1: best, threshold };
}

/**
 * Best F1 over every distinct pixel score of all maps pooled (non-zero mask = defect). Throws when no
 * pixel, or every pixel, is a defect pixel.
 *
 * @example
 * ```ts
 * f1MaxPixel([{ width: 3, height: 1, data: Float32Array.of(0.9, 0.5, 0.1) }],
 *   [{ width: 3, height: 1, data: Uint8Array.of(1, 0, 1) }]); // 0.8
 * ```
 */
export function f1MaxPixel(maps: ScoreMap[], masks: MaskMap[]): number {
  checkMapsAndMasks(maps, masks, "f1MaxPixel");
  const { defect, total } = pooledPixelCounts(maps, masks);
  if (defect === 0 || defect === total) {
    throw new RangeError(`f1MaxPixel: ${defect} of ${total} pixels are defect pixels; F1 needs both classes`);
  }
  let tp = 0, fp = 0, best = 0;
  walkPooledScores(maps, masks, (normal, def) => {
    tp += def;
    fp += normal;
    const f1 = f1Of(tp, fp, defect);
    if (f1 > best) best = f1;
  }, "f1MaxPixel");
  return best;
}

/**
 * ADer's pixel F1-max (`mF1_max_px`): maps min–max normalised over the set, F1 with ε = 1e-8 at the 21
 * thresholds 0, 0.05, …, 1 (`np.arange(0, 1 + 1e-3, 0.05)`, positive if > t), then the largest.
 *
 * @example
 * ```ts
 * f1MaxPixelAder([{ width: 2, height: 1, data: Float32Array.of(1, 0) }], [{ width: 2, height: 1, data: Uint8Array.of(1, 0) }]);
 * ```
 */
export function f1MaxPixelAder(maps: ScoreMap[], masks: MaskMap[]): number {
  checkMapsAndMasks(maps, masks, "f1MaxPixelAder");
  const [min, max] = finiteScoreRange(maps);
  // np.arange(0.0, 1.0 + 1e-3, 0.05): start + i·step with NumPy's fill rule (delta = (0 + 0.05) − 0).
  const thresholds = Array.from({ length: 21 }, (_, i) => i * 0.05);
  const predicted = new Float64Array(21), hits = new Float64Array(21);
  let gt = 0;
  const range = max - min;
  for (const [i, m] of maps.entries()) {
    const mask = masks[i].data;
    for (let p = 0; p < m.data.length; p++) {
      const v = (m.data[p] - min) / range; // NaN for a constant set, as the reference; then nothing is positive
      const isDefect = mask[p] !== 0;
      if (isDefect) gt++;
      for (let t = 0; t < 21 && v > thresholds[t]; t++) {
        predicted[t]++;
        if (isDefect) hits[t]++;
      }
    }
  }
  const eps = 1e-8;
  let best = -Infinity;
  for (let t = 0; t < 21; t++) {
    const precision = hits[t] / (predicted[t] + eps), recall = hits[t] / (gt + eps);
    const f1 = (2 * precision * recall) / (precision + recall + eps);
    if (f1 > best) best = f1;
  }
  return best;
}
