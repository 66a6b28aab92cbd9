/**
 * Every metric dialect the engine computes, described in one place: a stable key, a label for tables,
 * what kind of number it is, the published-results variant family it belongs to, the function that
 * computes it, and the source it reproduces. Published anomaly-detection numbers come in incompatible
 * dialects (an AU-PRO integrated exactly or from 200 sampled thresholds, an image score that is the map's
 * maximum or the maximum of a 16×16 average); a table may compare two numbers only when their `family`
 * and `key` agree, and otherwise must name the dialect of each.
 *
 * @example
 * ```ts
 * import { METRIC_DIALECTS, dialectByKey } from "./dialects.ts";
 * dialectByKey("au-pro@0.3/ader-200").label; // "AU-PRO@0.3, ADer (200 thresholds, FPR rescaled)"
 * ```
 *
 * @module
 */
import { mapMaxScore, pooledMapMaxScore } from "./map_score.ts";
import { rocAuc } from "./roc.ts";
import { averagePrecision, prAucTrapezoid } from "./precision_recall.ts";
import { f1MaxImage, f1MaxPixel, f1MaxPixelAder } from "./f1_max.ts";
import { pixelAuroc } from "./pixel.ts";
import { auPro } from "./pro.ts";
import { auProAder, auProCflow } from "./pro_sampled.ts";
import { auProAnomalibLegacy } from "./pro_anomalib_legacy.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/** What a dialect produces. */
export type DialectKind =
  /** Turns one anomaly map into an image score (then any image metric applies). */
  | "image-score"
  /** Image scores + labels → one number. */
  | "image-metric"
  /** Anomaly maps + masks → one number. */
  | "pixel-metric";

/** What every dialect states about itself. */
interface DialectInfo {
  /** Stable key, `<family>/<dialect>` in lower case (run records and tables use it). */
  key: string;
  /** Label for tables. */
  label: string;
  /**
   * The variant family of `published-results.md` this is a dialect of (`image-AUROC`, `pixel-AUROC/all`,
   * `AU-PRO@0.3`, `PR-AUC/trap`, `AP`, `F1-max/image`, `F1-max/pixel`; `image-score` for map → score).
   */
  family: string;
  /** Whether this is the family's reference definition (the official code's). */
  official: boolean;
  /** The code it reproduces: repository, file, function (and version where it changed). */
  source: string;
  /** How it differs from the family's official definition (empty for the official one). */
  differs: string;
}

/** One metric dialect, with the function that computes it for its kind. */
export type MetricDialect =
  | DialectInfo & { kind: "image-score"; compute: (map: ScoreMap) => number }
  | DialectInfo & {
    kind: "image-metric";
    compute: (scores: ArrayLike<number>, labels: ArrayLike<number>) => number;
  }
  | DialectInfo & { kind: "pixel-metric"; compute: (maps: ScoreMap[], masks: MaskMap[]) => number };

/** The dialects, official definitions first within each family. */
export const METRIC_DIALECTS: readonly MetricDialect[] = [
  {
    key: "image-score/max",
    label: "image score = max of the anomaly map",
    kind: "image-score",
    family: "image-score",
    official: true,
    compute: mapMaxScore,
    source: "MVTec AD evaluation v1.0 evaluate_experiment.py (np.max of each map); cflow-ad train.py",
    differs: "",
  },
  {
    key: "image-score/ader-avgpool16-max",
    label: "image score = max of the 16×16-average-pooled map (ADer)",
    kind: "image-score",
    family: "image-score",
    official: false,
    compute: (map) => pooledMapMaxScore(map, { kernel: 16 }),
    source: "zhangzjn/ADer util/metric.py Evaluator(pooling_ks=[16, 16]): F.avg_pool2d(k, stride 1) then max",
    differs: "averages each 16×16 window first, damping isolated hot pixels",
  },
  {
    key: "image-auroc/sklearn",
    label: "image ROC-AUC",
    kind: "image-metric",
    family: "image-AUROC",
    official: true,
    compute: rocAuc,
    source: "sklearn roc_auc_score; MVTec AD evaluation compute_classification_roc + trapezoid",
    differs: "",
  },
  {
    key: "ap/sklearn",
    label: "average precision (step sum)",
    kind: "image-metric",
    family: "AP",
    official: true,
    compute: averagePrecision,
    source: "sklearn average_precision_score",
    differs: "",
  },
  {
    key: "pr-auc/trapezoid",
    label: 'PR-AUC, trapezoidal (VT-ADL\'s "PR AUC")',
    kind: "image-metric",
    family: "PR-AUC/trap",
    official: true,
    compute: prAucTrapezoid,
    source: "sklearn auc(recall, precision) on precision_recall_curve; pankajmishra000/VT-ADL test.py",
    differs: "",
  },
  {
    key: "f1-max/image",
    label: "F1-max, image level",
    kind: "image-metric",
    family: "F1-max/image",
    official: true,
    compute: (scores, labels) => f1MaxImage(scores, labels).f1,
    source: "zhangzjn/ADer util/metric.py mF1_max_sp_max; anomalib F1Max (2PR/(P+R+1e-10))",
    differs: "",
  },
  {
    key: "pixel-auroc/all",
    label: 'pixel ROC-AUC, all test images pooled (VT-ADL code\'s "PRO")',
    kind: "pixel-metric",
    family: "pixel-AUROC/all",
    official: true,
    compute: pixelAuroc,
    source: 'sklearn roc_auc_score on all pixels; pankajmishra000/VT-ADL test.py:195 (printed as "PRO")',
    differs: "",
  },
  {
    key: "f1-max/pixel",
    label: "F1-max, pixel level, every threshold",
    kind: "pixel-metric",
    family: "F1-max/pixel",
    official: true,
    compute: f1MaxPixel,
    source: "anomalib F1Max on pixels; cflow-ad train.py optimal SEG threshold (precision_recall_curve)",
    differs: "",
  },
  {
    key: "f1-max/pixel-ader-21",
    label: "F1-max, pixel level, ADer (min–max normalised, 21 thresholds)",
    kind: "pixel-metric",
    family: "F1-max/pixel",
    official: false,
    compute: f1MaxPixelAder,
    source: "zhangzjn/ADer util/metric.py mF1_max_px",
    differs:
      "maps min–max normalised over the set; only thresholds 0, 0.05, …, 1 (> t); ε = 1e-8 in every ratio",
  },
  {
    key: "au-pro@0.3/official",
    label: "AU-PRO@0.3 (official MVTec algorithm)",
    kind: "pixel-metric",
    family: "AU-PRO@0.3",
    official: true,
    compute: (maps, masks) => auPro(maps, masks).auPro,
    source: "MVTec AD evaluation v1.0 pro_curve_util.py compute_pro + generic_util.py trapezoid",
    differs: "",
  },
  {
    key: "au-pro@0.3/cflow-1000",
    label: "AU-PRO@0.3, cflow-ad (1000 thresholds, FPR rescaled, filled regions)",
    kind: "pixel-metric",
    family: "AU-PRO@0.3",
    official: false,
    compute: (maps, masks) => auProCflow(maps, masks, { steps: 1000 }).auPro,
    source: "gudovskiy/cflow-ad train.py (from YoungGod/DFR)",
    differs:
      "1000 thresholds from the maximum down (> t); FPR ≤ 0.3 kept and min–max rescaled; sklearn auc; region overlap over the hole-filled region divided by the unfilled area",
  },
  {
    key: "au-pro@0.3/ader-200",
    label: "AU-PRO@0.3, ADer (200 thresholds, FPR rescaled)",
    kind: "pixel-metric",
    family: "AU-PRO@0.3",
    official: false,
    compute: (maps, masks) => auProAder(maps, masks, { steps: 200 }).auPro,
    source:
      "zhangzjn/ADer util/metric.py Evaluator.cal_pro_score (default max_step=200); CLIP-based AD repositories' cal_pro_score",
    differs:
      "np.arange(min, max, (max − min)/200) thresholds (> t); FPR < 0.3 kept and min–max rescaled; sklearn auc",
  },
  {
    key: "au-pro@0.3/ader-100",
    label: "AU-PRO@0.3, ADer configs (100 thresholds, FPR rescaled)",
    kind: "pixel-metric",
    family: "AU-PRO@0.3",
    official: false,
    compute: (maps, masks) => auProAder(maps, masks, { steps: 100 }).auPro,
    source: "zhangzjn/ADer configs: evaluator.kwargs max_step_aupro=100",
    differs: "as au-pro@0.3/ader-200 with 100 thresholds",
  },
  {
    key: "au-pro@0.3/anomalib-legacy",
    label: "AU-PRO@0.3, anomalib ≤ 2.2 (per-region resampling, ÷ last FPR)",
    kind: "pixel-metric",
    family: "AU-PRO@0.3",
    official: false,
    compute: (maps, masks) => auProAnomalibLegacy(maps, masks).auPro,
    source:
      "openvinotoolkit/anomalib src/anomalib/metrics/aupro.py before PR #3115 (e.g. 1b98f56), torchmetrics binary_roc",
    differs:
      "per-region ROC curves resampled by index and averaged with their FPR; area divided by the last averaged FPR (can exceed 1); float32 sigmoid on scores outside [0, 1]",
  },
];

/**
 * The dialect with `key`; throws listing the known keys.
 *
 * @example
 * ```ts
 * dialectByKey("image-score/max").official; // true
 * ```
 */
export function dialectByKey(key: string): MetricDialect {
  const found = METRIC_DIALECTS.find((d) => d.key === key);
  if (!found) {
    throw new RangeError(
      `unknown metric dialect '${key}'; known: ${METRIC_DIALECTS.map((d) => d.key).join(", ")}`,
    );
  }
  return found;
}

/**
 * Whether a value in dialect `a` may be compared with one in dialect `b`: only when both are the same
 * dialect (both keys must be known). Otherwise a table must say which dialect each number used.
 *
 * @example
 * ```ts
 * sameDialect("au-pro@0.3/official", "au-pro@0.3/ader-200"); // false
 * ```
 */
export function sameDialect(a: string, b: string): boolean {
  return dialectByKey(a).key === dialectByKey(b).key;
}
