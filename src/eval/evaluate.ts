/**
 * Evaluation of one category of a reproduce run: raw model outputs → image scores and anomaly maps →
 * {@linkcode evaluateMaps}. Every metric is recorded with the definition it follows, so a report never
 * confuses the VT-ADL code's "PRO" (a pixel ROC-AUC) with AU-PRO@0.3.
 *
 * @module
 */
import type { ImageSample } from "../datasets/types.ts";
import type { MaskMap, ScoreMap } from "../metrics/mod.ts";
import type { AnomalyMapKind, ImageScoreName } from "../core/models.ts";
import { DEFAULT_INTEGRATION_LIMIT } from "../core/metrics.ts";
import { patchHeatmap, resizeBilinearAlignCorners } from "./heatmap.ts";
import { mapToOriginal } from "./original_resolution.ts";
import { imageScores, type RawScores } from "./image_score.ts";
import {
  type DialectValue,
  dialectValueEntries,
  evaluateMaps,
  type MetricEntry,
  metricSetEntries,
  type ProCurve,
} from "./metric_set.ts";
import { type Breakdowns, defectBreakdown, wholeCategory } from "./breakdown.ts";
import type { DialectVariantSpec } from "../core/metrics.ts";

export type { MetricEntry };

/** Options of {@linkcode evaluateCategory}. */
export interface EvaluateOptions {
  imageScore: ImageScoreName;
  anomalyMap: AnomalyMapKind;
  /** Gaussian σ for VT-ADL patch maps (0 = none). Default 4 (the code). */
  heatmapSigma?: number;
  /** AU-PRO integration limit. Default 0.3. */
  integrationLimit?: number;
  /**
   * Evaluate pixels at the original resolution: the original masks (in test order) and the preprocessing
   * geometry to map the anomaly maps back with. Default: at the preprocessed size, against `sample.mask`.
   */
  original?: { masks: MaskMap[]; geometry: { resize: number; crop: number } };
  /** Extra metric dialects to compute. Default none. */
  dialects?: readonly DialectVariantSpec[];
  /** Per-defect-type image AUROC and AU-PRO (datasets with masks). Default false. */
  breakdown?: boolean;
}

/** What {@linkcode evaluateCategory} returns. */
export interface CategoryEvaluation {
  metrics: MetricEntry[];
  /** Image score per test image, in test order. */
  scores: Float64Array;
  /** Anomaly map per test image at the preprocessed size (null when the split has no masks, e.g. MNIST). */
  maps: ScoreMap[] | null;
  masks: MaskMap[] | null;
  /** The dialect variants asked for that the data allows. */
  dialectValues: DialectValue[];
  /** Per-defect-type results (with `breakdown` on data with masks), else null. */
  breakdowns: Breakdowns | null;
  /** The PRO curve behind AU-PRO with its limit (null without masks). */
  proCurve: (ProCurve & { integrationLimit: number }) | null;
}

/**
 * The pixel anomaly map of one image at `width`×`height`: VT-ADL's upsampled, filtered patch NLL, or an
 * autoencoder's per-pixel squared error / 1 − SSIM (resized with aligned corners if the model's output
 * size differs from the evaluation size).
 */
export function anomalyMap(
  raw: RawScores,
  kind: AnomalyMapKind,
  width: number,
  height: number,
  { sigma = 4 }: { sigma?: number } = {},
): ScoreMap {
  if (kind === "patchNll") {
    if (raw.patchNll === null) {
      throw new Error("anomaly map 'patchNll' needs per-patch NLL; this model has none");
    }
    return { width, height, data: patchHeatmap(raw.patchNll, raw.gridSize, width, height, { sigma }) };
  }
  const source = kind === "error" ? raw.errorMap : raw.ssimMap.map((v) => 1 - v);
  if (source.length === width * height) return { width, height, data: Float32Array.from(source) };
  const side = Math.round(Math.sqrt(source.length));
  if (side * side !== source.length) {
    throw new Error(
      `anomaly map '${kind}' has ${source.length} pixels, not a square; cannot resize to ${width}×${height}`,
    );
  }
  return {
    width,
    height,
    data: Float32Array.from(resizeBilinearAlignCorners(source, side, side, width, height)),
  };
}

/** The ground-truth mask of a test image at its preprocessed size (all zero for normal images). */
export function maskOf(sample: ImageSample): MaskMap {
  return {
    width: sample.width,
    height: sample.height,
    data: sample.mask ?? new Uint8Array(sample.width * sample.height),
  };
}

/**
 * Computes every metric of one category from the raw scores of its test images (same order as `test`).
 * Pixel metrics are computed only when at least one anomalous test image has a mask.
 *
 * @example
 * ```ts
 * const { metrics } = evaluateCategory(test, raws, { imageScore: "code", anomalyMap: "patchNll" });
 * ```
 */
export function evaluateCategory(
  test: ImageSample[],
  raws: RawScores[],
  options: EvaluateOptions,
): CategoryEvaluation {
  if (test.length !== raws.length) {
    throw new Error(`evaluateCategory: ${test.length} test images but ${raws.length} raw scores`);
  }
  const { imageScore, anomalyMap: mapKind, heatmapSigma = 4, integrationLimit = DEFAULT_INTEGRATION_LIMIT } =
    options;
  const labels = Uint8Array.from(test, (s) => s.label);
  const scores = imageScores(raws, imageScore);
  const provenance = { imageScore, anomalyMap: mapKind };
  const hasMasks = test.some((s) => s.label === 1 && s.mask !== null);
  if (!hasMasks) {
    const set = evaluateMaps({ image: { scores, labels } }, { integrationLimit, dialects: options.dialects });
    return {
      metrics: metricSetEntries(set, provenance),
      scores,
      maps: null,
      masks: null,
      dialectValues: dialectValueEntries(set, provenance),
      breakdowns: null,
      proCurve: null,
    };
  }

  const maps = test.map((s, i) => anomalyMap(raws[i], mapKind, s.width, s.height, { sigma: heatmapSigma }));
  const masks = test.map(maskOf);
  let evalMaps = maps, evalMasks = masks;
  let resolution = `${test[0].width}×${test[0].height} (preprocessed)`;
  const original = options.original;
  if (original) {
    if (original.masks.length !== test.length) {
      throw new Error(
        `evaluateCategory: ${original.masks.length} original masks for ${test.length} test images`,
      );
    }
    evalMasks = original.masks;
    evalMaps = maps.map((m, i) =>
      mapToOriginal(m, original.geometry, evalMasks[i].width, evalMasks[i].height)
    );
    const sizes = [...new Set(evalMasks.map((m) => `${m.width}×${m.height}`))];
    resolution = `${sizes.slice(0, 3).join(", ")}${sizes.length > 3 ? ", …" : ""} (original)`;
  }
  const set = evaluateMaps(
    { image: { scores, labels }, pixel: { maps: evalMaps, masks: evalMasks } },
    { integrationLimit, dialects: options.dialects },
  );
  const breakdowns = options.breakdown
    ? defectBreakdown({
      defectTypes: test.map((s) => s.defectType),
      labels,
      scores,
      maps: evalMaps,
      masks: evalMasks,
      integrationLimit,
      whole: wholeCategory(set),
    })
    : null;
  const pixelDetails = { resolution, heatmapSigma: mapKind === "patchNll" ? heatmapSigma : 0 };
  const proCurve = set.pixel ? { integrationLimit: set.pixel.integrationLimit, ...set.pixel.proCurve } : null;
  return {
    metrics: metricSetEntries(set, { ...provenance, pixelDetails }),
    scores,
    maps,
    masks,
    dialectValues: dialectValueEntries(set, provenance),
    breakdowns,
    proCurve,
  };
}
