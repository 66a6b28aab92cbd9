/**
 * Evaluation of one category: image scores → image metrics; anomaly maps → pixel metrics. Every metric
 * is returned with the variant key of `published-results.md` so a report never confuses the VT-ADL
 * code's "PRO" (a pixel ROC-AUC) with AU-PRO@0.3.
 *
 * @module
 */
import type { ImageSample } from "../datasets/types.ts";
import type { MaskMap, MetricFunctions, ScoreMap } from "./deps.ts";
import { patchHeatmap, resizeBilinearAlignCorners } from "./heatmap.ts";
import { mapToOriginal } from "./original_resolution.ts";
import { type AnomalyMapKind, imageScores, type ImageScoreVariant, type RawScores } from "./image_score.ts";

/** The metric keys a run record carries. */
export type MetricKey =
  | "imageAuroc"
  | "averagePrecision"
  | "prAucTrapezoid"
  | "pixelAuroc"
  | "vtadlCodePro"
  | "auPro";

/** One computed metric with the names a reader needs to compare it with a published number. */
export interface MetricEntry {
  /** Stable key used by the tables. */
  key: MetricKey;
  /** Human label, e.g. `VT-ADL-code PRO (= pixel ROC-AUC, all images)`. */
  label: string;
  /** Variant key of `published-results.md` (`image-AUROC`, `pixel-AUROC/all`, `AU-PRO@0.3`, …). */
  variant: string;
  value: number;
  /** Image-score variant (image metrics) or anomaly-map kind (pixel metrics). */
  scoredBy: string;
  /** Extra facts (AU-PRO: regions, OK pixels, degenerate flag, warnings; pixel metrics: resolution). */
  details?: Record<string, unknown>;
}

/** Options of {@linkcode evaluateCategory}. */
export interface EvaluateOptions {
  imageScore: ImageScoreVariant;
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
}

/** What {@linkcode evaluateCategory} returns. */
export interface CategoryEvaluation {
  metrics: MetricEntry[];
  /** Image score per test image, in test order. */
  scores: Float64Array;
  /** Anomaly map per test image at the preprocessed size (null when the split has no masks, e.g. MNIST). */
  maps: ScoreMap[] | null;
  masks: MaskMap[] | null;
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
 * const { metrics } = evaluateCategory(test, raws, { imageScore: "code", anomalyMap: "patchNll" }, metricFns);
 * ```
 */
export function evaluateCategory(
  test: ImageSample[],
  raws: RawScores[],
  options: EvaluateOptions,
  fns: MetricFunctions,
): CategoryEvaluation {
  if (test.length !== raws.length) {
    throw new Error(`evaluateCategory: ${test.length} test images but ${raws.length} raw scores`);
  }
  const { imageScore, anomalyMap: mapKind, heatmapSigma = 4, integrationLimit = 0.3 } = options;
  const labels = Uint8Array.from(test, (s) => s.label);
  const scores = imageScores(raws, imageScore);
  const metrics: MetricEntry[] = [
    {
      key: "imageAuroc",
      label: "image ROC-AUC",
      variant: "image-AUROC",
      value: fns.rocAuc(scores, labels),
      scoredBy: imageScore,
    },
    {
      key: "averagePrecision",
      label: "average precision",
      variant: "AP",
      value: fns.averagePrecision(scores, labels),
      scoredBy: imageScore,
    },
    {
      key: "prAucTrapezoid",
      label: "PR-AUC (trapezoid, VT-ADL's 'PR AUC')",
      variant: "PR-AUC/trap",
      value: fns.prAucTrapezoid(scores, labels),
      scoredBy: imageScore,
    },
  ];
  const hasMasks = test.some((s) => s.label === 1 && s.mask !== null);
  if (!hasMasks) return { metrics, scores, maps: null, masks: null };

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
  const pixel = fns.pixelAuroc(evalMaps, evalMasks);
  const codePro = fns.vtadlCodePro(evalMaps, evalMasks);
  const pro = fns.auPro(evalMaps, evalMasks, { integrationLimit });
  const mapDetails = { resolution, heatmapSigma: mapKind === "patchNll" ? heatmapSigma : 0 };
  metrics.push(
    {
      key: "pixelAuroc",
      label: "pixel ROC-AUC (all test images)",
      variant: "pixel-AUROC/all",
      value: pixel,
      scoredBy: mapKind,
      details: mapDetails,
    },
    {
      key: "vtadlCodePro",
      label: "VT-ADL-code PRO (= pixel ROC-AUC, all images)",
      variant: "pixel-AUROC/all",
      value: codePro,
      scoredBy: mapKind,
      details: mapDetails,
    },
    {
      key: "auPro",
      label: `AU-PRO@${integrationLimit} (official MVTec algorithm)`,
      variant: `AU-PRO@${integrationLimit}`,
      value: pro.auPro,
      scoredBy: mapKind,
      details: {
        ...mapDetails,
        fprMode: pro.fprMode,
        nRegions: pro.nRegions,
        nOkPixels: pro.nOkPixels,
        degenerate: pro.degenerate,
        warnings: pro.warnings,
      },
    },
  );
  return { metrics, scores, maps, masks };
}
