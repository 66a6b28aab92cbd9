/**
 * Image-level ROC curve and ROC-AUC, as sklearn's `roc_curve` / `roc_auc_score` define them: thresholds
 * are the distinct scores (exact ties, no tolerance), a sample is positive when its score ≥ threshold,
 * and the AUC is the Mann–Whitney statistic with ties counted ½ (docs/metrics.md §4.1).
 *
 * @module
 */
import { checkScoresAndLabels } from "./validate.ts";

/** Distinct scores in descending order with the number of positives and negatives at each. */
export interface TieGroups {
  /** Distinct scores, descending. */
  thresholds: Float64Array;
  /** Label-1 samples with exactly that score. */
  positives: Float64Array;
  /** Label-0 samples with exactly that score. */
  negatives: Float64Array;
  /** Total label-1 samples. */
  totalPositives: number;
  /** Total label-0 samples. */
  totalNegatives: number;
}

/** Groups validated scores by distinct value (descending), counting each class per group. */
export function tieGroups(scores: ArrayLike<number>, labels: ArrayLike<number>, metric: string): TieGroups {
  const { positives: totalPositives, negatives: totalNegatives } = checkScoresAndLabels(
    scores,
    labels,
    metric,
  );
  const n = scores.length;
  const order = new Uint32Array(n).map((_, i) => i);
  order.sort((a, b) => scores[b] - scores[a] || a - b);
  const thresholds = new Float64Array(n), positives = new Float64Array(n), negatives = new Float64Array(n);
  let g = -1;
  for (let k = 0; k < n; k++) {
    const s = scores[order[k]];
    if (g < 0 || thresholds[g] !== s) thresholds[++g] = s;
    if (labels[order[k]] === 1) positives[g]++;
    else negatives[g]++;
  }
  const groups = g + 1;
  return {
    thresholds: thresholds.slice(0, groups),
    positives: positives.slice(0, groups),
    negatives: negatives.slice(0, groups),
    totalPositives,
    totalNegatives,
  };
}

/** A ROC curve: one point per distinct threshold, preceded by (0, 0) at threshold +∞. */
export interface RocCurve {
  /** False-positive rate per point. */
  fpr: Float64Array;
  /** True-positive rate per point. */
  tpr: Float64Array;
  /** Threshold per point (positive if score ≥ threshold); the first is +Infinity. */
  thresholds: Float64Array;
}

/**
 * The ROC curve of image scores against 0/1 labels, like sklearn `roc_curve(..., drop_intermediate=False)`.
 *
 * @example
 * ```ts
 * rocCurve([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]).tpr; // [0, 0.5, 0.5, 1, 1]
 * ```
 */
export function rocCurve(scores: ArrayLike<number>, labels: ArrayLike<number>): RocCurve {
  const g = tieGroups(scores, labels, "rocCurve");
  const m = g.thresholds.length;
  const fpr = new Float64Array(m + 1), tpr = new Float64Array(m + 1), thresholds = new Float64Array(m + 1);
  thresholds[0] = Infinity;
  let tp = 0, fp = 0;
  for (let i = 0; i < m; i++) {
    tp += g.positives[i];
    fp += g.negatives[i];
    fpr[i + 1] = fp / g.totalNegatives;
    tpr[i + 1] = tp / g.totalPositives;
    thresholds[i + 1] = g.thresholds[i];
  }
  return { fpr, tpr, thresholds };
}

/**
 * Mann–Whitney U/(n₊n₋) from tie groups, ties counted ½. Computed as an exact integer 2U (exact while
 * 2·n₊·n₋ < 2⁵³) and divided once, so it equals sklearn's trapezoid to ~1e-16.
 */
export function mannWhitneyAuc(
  positives: ArrayLike<number>,
  negatives: ArrayLike<number>,
  groups: number,
  totalPositives: number,
  totalNegatives: number,
): number {
  // Walking from the highest score down: negatives strictly below = total - seen so far - this group.
  let twiceU = 0, negativesSeen = 0;
  for (let i = 0; i < groups; i++) {
    const below = totalNegatives - negativesSeen - negatives[i];
    twiceU += positives[i] * (2 * below + negatives[i]);
    negativesSeen += negatives[i];
  }
  return twiceU / (2 * totalPositives * totalNegatives);
}

/**
 * Image-level ROC-AUC = P(score of a random anomalous sample > score of a random normal one), ties ½.
 * Equals sklearn `roc_auc_score`. Throws when only one class is present or a score is not finite.
 *
 * @example
 * ```ts
 * rocAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]); // 0.75
 * ```
 */
export function rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  const g = tieGroups(scores, labels, "rocAuc");
  return mannWhitneyAuc(g.positives, g.negatives, g.thresholds.length, g.totalPositives, g.totalNegatives);
}
