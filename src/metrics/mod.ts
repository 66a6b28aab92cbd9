/**
 * The vtadl-bench metric engine: pure functions on typed arrays, no other imports of the project.
 *
 * - Image level: {@linkcode rocCurve}, {@linkcode rocAuc} (sklearn `roc_auc_score`),
 *   {@linkcode averagePrecision} (sklearn AP), {@linkcode prAucTrapezoid} (sklearn `auc(recall, precision)`,
 *   VT-ADL's "PR AUC").
 * - Pixel level: {@linkcode pixelAuroc} (pooled; {@linkcode vtadlCodePro} is the same number under the name
 *   VT-ADL's code prints) and {@linkcode auPro} (official MVTec AD AU-PRO up to an FPR limit).
 *
 * @example
 * ```ts
 * import { auPro, rocAuc } from "./mod.ts";
 * rocAuc([0.2, 0.9], [0, 1]); // 1
 * ```
 *
 * @module
 */
export type { MaskMap, ScoreMap } from "./types.ts";
export { mannWhitneyAuc, rocAuc, rocCurve, tieGroups } from "./roc.ts";
export type { RocCurve, TieGroups } from "./roc.ts";
export { averagePrecision, prAucTrapezoid, precisionRecallCurve } from "./precision_recall.ts";
export type { PrecisionRecallCurve } from "./precision_recall.ts";
export { pixelAuroc, vtadlCodePro } from "./pixel.ts";
export { auPro, FPR_MODES } from "./pro.ts";
export type { AuProOptions, AuProResult, FprMode } from "./pro.ts";
export { labelRegions8 } from "./connected_components.ts";
export type { RegionLabels } from "./connected_components.ts";
export { PairwiseStream, pairwiseSum, trapezoidToLimit } from "./trapezoid.ts";
export type { TrapezoidResult } from "./trapezoid.ts";
