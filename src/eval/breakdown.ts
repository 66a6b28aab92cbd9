/**
 * Per-defect-type results: for each defect type of a category (MVTec AD's `test/<defect>/` folders,
 * BTAD's `ko`, the synthetic set's two defects), image ROC-AUC and AU-PRO of that type's images against
 * the category's normal test images. Every row uses the same normal images as negatives, so a row says how
 * well this one kind of defect is found, the way MVTec AD's per-defect analyses report it.
 *
 * Both columns are the official dialect: image ROC-AUC as scikit-learn, AU-PRO as the official MVTec AD
 * evaluation (`src/metrics/pro.ts`), with the FPR counted over the normal pixels of the row's images.
 *
 * @module
 */
import { DEFAULT_FPR_MODE, DEFAULT_INTEGRATION_LIMIT, type FprMode } from "../core/metrics.ts";
import { auProWithSharedNormals, type MaskMap, rocAuc, type ScoreMap } from "../metrics/mod.ts";
import type { Breakdowns } from "../runs/record.ts";
import type { MetricSet } from "./metric_set.ts";

export type { Breakdowns };

/** What {@linkcode defectBreakdown} needs, one entry per test image in the same order. */
export interface BreakdownInput {
  /** Defect folder of each image (normal images' value is ignored). */
  defectTypes: readonly string[];
  /** 1 = anomalous. */
  labels: ArrayLike<number>;
  /** Image scores (larger = more anomalous). */
  scores: ArrayLike<number>;
  /** Anomaly maps and masks; without them the AU-PRO column is null. */
  maps?: readonly ScoreMap[] | null;
  masks?: readonly MaskMap[] | null;
  /** AU-PRO FPR limit. Default 0.3. */
  integrationLimit?: number;
  fprMode?: FprMode;
  /**
   * The category's own image AUROC and AU-PRO (official, same limit and FPR mode), when already
   * computed: a defect type whose images are all the anomalous ones (a category with one defect type)
   * has exactly the category's inputs, so its row takes these instead of computing them again.
   */
  whole?: WholeCategory | null;
}

/** A category's results as {@linkcode BreakdownInput.whole} takes them. */
export interface WholeCategory {
  imageAuroc: number;
  /** Null when degenerate (no defect region). */
  auPro: number | null;
  nRegions: number;
}

/**
 * The {@linkcode WholeCategory} of a category's metric set, for {@linkcode BreakdownInput.whole}; null
 * when the set has no image AUROC.
 */
export function wholeCategory(set: MetricSet): WholeCategory | null {
  const imageAuroc = set.values.imageAuroc;
  if (imageAuroc === undefined) return null;
  const pixel = set.pixel;
  return {
    imageAuroc,
    auPro: pixel === null || pixel.degenerate ? null : set.values.auPro ?? null,
    nRegions: pixel?.nRegions ?? 0,
  };
}

/**
 * Image AUROC and AU-PRO per defect type (rows sorted by defect type), or null when the images hold no
 * anomalous image. An AU-PRO whose rows have no defect region (degenerate) is null, with `nRegions` 0.
 *
 * @example
 * ```ts
 * const b = defectBreakdown({
 *   defectTypes: ["good", "crack", "hole"],
 *   labels: [0, 1, 1],
 *   scores: [0.1, 0.9, 0.05],
 * });
 * b!.rows.map((r) => [r.defectType, r.imageAuroc]); // [["crack", 1], ["hole", 0]]
 * ```
 */
export function defectBreakdown(input: BreakdownInput): Breakdowns | null {
  const { defectTypes, labels, scores, integrationLimit = DEFAULT_INTEGRATION_LIMIT } = input;
  const fprMode = input.fprMode ?? DEFAULT_FPR_MODE;
  const n = labels.length;
  if (defectTypes.length !== n || scores.length !== n) {
    throw new Error(
      `defectBreakdown: ${n} labels, ${defectTypes.length} defect types and ${scores.length} scores; give one of each per image`,
    );
  }
  const maps = input.maps ?? null, masks = input.masks ?? null;
  if ((maps === null) !== (masks === null) || (maps && (maps.length !== n || masks!.length !== n))) {
    throw new Error(`defectBreakdown: give one map and one mask per image, or neither`);
  }
  const normal: number[] = [];
  const byType = new Map<string, number[]>();
  for (let i = 0; i < n; i++) {
    if (labels[i] === 1) {
      const list = byType.get(defectTypes[i]) ?? [];
      list.push(i);
      byType.set(defectTypes[i], list);
    } else normal.push(i);
  }
  if (byType.size === 0) return null;
  const typeNames = [...byType.keys()].sort();
  const whole = input.whole ?? null;
  // A row over every image (one defect type) is the category itself: it takes `whole` when given.
  const fresh = typeNames.map((t) => whole === null || normal.length + byType.get(t)!.length < n);
  // Every row shares the normal images: their pixels are indexed once for all rows.
  const pros = maps && masks
    ? auProWithSharedNormals(
      { maps: normal.map((i) => maps[i]), masks: normal.map((i) => masks![i]) },
      typeNames.filter((_, k) => fresh[k]).map((t) => ({
        maps: byType.get(t)!.map((i) => maps[i]),
        masks: byType.get(t)!.map((i) => masks![i]),
      })),
      { integrationLimit, fprMode, maxCurvePoints: 2 },
    )
    : null;
  let next = 0;
  const rows = typeNames.map((defectType, k) => {
    const anomalous = byType.get(defectType)!;
    const reused = fresh[k] ? null : whole!;
    const result = fresh[k] && pros !== null ? pros[next++] : null;
    const idx = [...normal, ...anomalous];
    const imageAuroc = normal.length === 0
      ? null
      : reused
      ? reused.imageAuroc
      : rocAuc(idx.map((i) => scores[i]), idx.map((i) => labels[i]));
    const withMaps = maps !== null && masks !== null;
    return {
      defectType,
      nAnomalous: anomalous.length,
      nNormal: normal.length,
      imageAuroc,
      auPro: !withMaps ? null : reused ? reused.auPro : result!.degenerate ? null : result!.auPro,
      nRegions: !withMaps ? null : reused ? reused.nRegions : result!.nRegions,
    };
  });
  return { dialect: "official", integrationLimit, rows };
}
