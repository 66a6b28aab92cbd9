/**
 * Image-level precision–recall metrics as sklearn computes them (docs/metrics.md §4.2–4.3):
 * - {@linkcode averagePrecision} = `average_precision_score`: the step sum Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct
 *   thresholds (not interpolated);
 * - {@linkcode prAucTrapezoid} = `auc(recall, precision)` on `precision_recall_curve`, which includes the
 *   appended (recall 0, precision 1) point: what VT-ADL's `test.py` prints as "PR_AUC".
 * Both reproduce sklearn's operation order (and NumPy's pairwise sum), so they agree to the last bit.
 *
 * @module
 */
import { tieGroups } from "./roc.ts";
import { pairwiseSum } from "./trapezoid.ts";

/** A precision–recall curve in sklearn's order: thresholds ascending, then the (R 0, P 1) end point. */
export interface PrecisionRecallCurve {
  /** Precision per point (last = 1). */
  precision: Float64Array;
  /** Recall per point (non-increasing; last = 0). */
  recall: Float64Array;
  /** Threshold per point (positive if score ≥ threshold), ascending; one fewer than the points. */
  thresholds: Float64Array;
}

/**
 * sklearn `precision_recall_curve(labels, scores)` (sklearn ≥ 1.1: no truncation at full recall).
 *
 * @example
 * ```ts
 * precisionRecallCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]).precision; // [0.5, 0.667, 0.5, 1, 1]
 * ```
 */
export function precisionRecallCurve(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
): PrecisionRecallCurve {
  const g = tieGroups(scores, labels, "precisionRecallCurve");
  const m = g.thresholds.length;
  const precision = new Float64Array(m + 1),
    recall = new Float64Array(m + 1),
    thresholds = new Float64Array(m);
  let tp = 0, fp = 0;
  for (let i = 0; i < m; i++) {
    tp += g.positives[i];
    fp += g.negatives[i];
    // sklearn: precision = tps / (tps + fps), recall = tps / tps[-1]; reversed to ascending thresholds.
    precision[m - 1 - i] = tp / (tp + fp);
    recall[m - 1 - i] = tp / g.totalPositives;
    thresholds[m - 1 - i] = g.thresholds[i];
  }
  precision[m] = 1;
  recall[m] = 0;
  return { precision, recall, thresholds };
}

/**
 * sklearn `average_precision_score`: `-np.sum(np.diff(recall) * precision[:-1])`. Throws when only one
 * class is present or a score is not finite.
 *
 * @example
 * ```ts
 * averagePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.8333333333333333
 * ```
 */
export function averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { precision: p, recall: r } = precisionRecallCurve(scores, labels);
  return -pairwiseSum(r.length - 1, (i) => (r[i + 1] - r[i]) * p[i]);
}

/**
 * sklearn `auc(recall, precision)` on `precision_recall_curve`: the trapezoid over the curve including
 * the (0, 1) start — VT-ADL's "PR AUC". Not the same as {@linkcode averagePrecision}.
 *
 * @example
 * ```ts
 * prAucTrapezoid([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.7916666666666666
 * ```
 */
export function prAucTrapezoid(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const { precision: p, recall: r } = precisionRecallCurve(scores, labels);
  // sklearn auc: recall is non-increasing, so direction = -1; np.trapezoid term = d * (y1 + y0) / 2.0.
  return -pairwiseSum(r.length - 1, (i) => (r[i + 1] - r[i]) * (p[i + 1] + p[i]) / 2.0);
}
