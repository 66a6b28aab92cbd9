/**
 * The vtadl-bench metric engine: pure functions on typed arrays, no other imports of the project.
 *
 * - Image level: {@linkcode rocCurve}, {@linkcode rocAuc} (sklearn `roc_auc_score`),
 *   {@linkcode averagePrecision} (sklearn AP), {@linkcode prAucTrapezoid} (sklearn `auc(recall, precision)`,
 *   VT-ADL's "PR AUC").
 * - Pixel level: {@linkcode pixelAuroc} (pooled; {@linkcode vtadlCodePro} is the same number under the name
 *   VT-ADL's code prints) and {@linkcode auPro} (official MVTec AD AU-PRO up to an FPR limit), or both
 *   from one ordering of the pooled pixels with {@linkcode pooledPixelMetrics}.
 * - Dialects that published numbers used, each described in {@linkcode METRIC_DIALECTS}: image scores from
 *   maps ({@linkcode mapMaxScore}, ADer's {@linkcode pooledMapMaxScore}), F1-max ({@linkcode f1MaxImage},
 *   {@linkcode f1MaxPixel}, {@linkcode f1MaxPixelAder}) and approximate AU-PRO ({@linkcode auProCflow},
 *   {@linkcode auProAder}, {@linkcode auProAnomalibLegacy}).
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
export { auPro, auProWithSharedNormals, FPR_MODES } from "./pro.ts";
export { setKeyArrayAdvisor } from "./score_keys.ts";
export type { AuProOptions, AuProResult, FprMode, MapSet } from "./pro.ts";
export { labelRegions8 } from "./connected_components.ts";
export type { RegionLabels } from "./connected_components.ts";
export { PairwiseStream, pairwiseSum, trapezoidToLimit } from "./trapezoid.ts";
export type { TrapezoidResult } from "./trapezoid.ts";
export { mapMaxScore, pooledMapMaxScore } from "./map_score.ts";
export { f1MaxImage, f1MaxPixel, f1MaxPixelAder } from "./f1_max.ts";
export type { F1Max } from "./f1_max.ts";
export { walkPooledScores } from "./pixel.ts";
export { pooledPixelMetrics } from "./pooled_pixel_metrics.ts";
export type { PooledPixelMetrics } from "./pooled_pixel_metrics.ts";
export type { PooledCounts } from "./pixel.ts";
export { auProAder, auProCflow } from "./pro_sampled.ts";
export type { SampledAuProOptions, SampledAuProResult } from "./pro_sampled.ts";
export { auProAnomalibLegacy } from "./pro_anomalib_legacy.ts";
export type { LegacyAuProOptions, LegacyAuProResult } from "./pro_anomalib_legacy.ts";
export { dialectByKey, METRIC_DIALECTS, sameDialect } from "./dialects.ts";
export type { DialectKind, MetricDialect } from "./dialects.ts";
