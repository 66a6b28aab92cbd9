/**
 * The one place metrics are assembled: image scores + labels and/or anomaly maps + masks in, a
 * {@linkcode MetricSet} out. The `metrics` and `evaluate` commands and the reproduce pipeline all call
 * {@linkcode evaluateMaps}; each names the numbers in its own key style only when it writes them
 * ({@linkcode metricSetJson}, {@linkcode metricSetEntries}).
 *
 * @module
 */
import {
  DEFAULT_FPR_MODE,
  DEFAULT_INTEGRATION_LIMIT,
  type FprMode,
  type JsonMetricName,
  METRIC_KEYS,
  type MetricKey,
  METRICS,
  type MetricSpec,
} from "../core/metrics.ts";
import { auPro, averagePrecision, pixelAuroc, prAucTrapezoid, rocAuc } from "../metrics/mod.ts";
import type { MaskMap, ScoreMap } from "../metrics/mod.ts";
import type { MetricEntry } from "../runs/record.ts";

export type { MetricEntry };

/** What {@linkcode evaluateMaps} measures. */
export interface MetricInput {
  /** Image scores (larger = more anomalous) with their labels (1 = anomalous). */
  image?: { scores: ArrayLike<number>; labels: ArrayLike<number> };
  /** Anomaly maps with their masks (non-zero = defect), in the same order. */
  pixel?: { maps: ScoreMap[]; masks: MaskMap[] };
}

/** Options of {@linkcode evaluateMaps}. */
export interface MetricOptions {
  /** AU-PRO FPR limit. Default 0.3. */
  integrationLimit?: number;
  /** AU-PRO FPR rounding. Default `float32` (official code under NumPy ≥ 2). */
  fprMode?: FprMode;
}

/** Facts about the pixel-level computation. */
export interface PixelFacts {
  integrationLimit: number;
  fprMode: FprMode;
  /** 8-connected defect regions over all masks. */
  nRegions: number;
  /** Normal pixels over all masks (the FPR's denominator). */
  nOkPixels: number;
  /** No region or no normal pixel: AU-PRO is the official degenerate value (limit / 2). */
  degenerate: boolean;
  /** Precision the map scores were compared at. */
  scoreDtype: "float32" | "float64";
  /** The PRO curve up to the first point past the limit, thinned to at most {@linkcode PRO_CURVE_POINTS}. */
  proCurve: ProCurve;
}

/** A PRO curve as plain arrays (what run records store and the leaderboard plots). */
export interface ProCurve {
  /** False positive rate of each point, ascending from 0. */
  fpr: number[];
  /** Per-region overlap of each point. */
  pro: number[];
}

/** At most this many PRO-curve points are kept for records and plots: enough for a smooth line, small on disk. */
export const PRO_CURVE_POINTS = 300;

/** Every metric the input allows, by key, with the facts a reader needs to interpret them. */
export interface MetricSet {
  values: Partial<Record<MetricKey, number>>;
  /** Null when the input had no maps. */
  pixel: PixelFacts | null;
  /** Degenerate input (one-class pixel labels, no region). */
  warnings: string[];
}

/**
 * Computes every metric of `input`: image AUROC, AP and trapezoid PR-AUC from scores; pooled pixel AUROC
 * (also under the VT-ADL code's name "PRO") and AU-PRO from maps. Pixel AUROC is left out, with a warning,
 * when the masks do not hold both defect and normal pixels.
 *
 * @example
 * ```ts
 * const set = evaluateMaps({ image: { scores: [0.1, 0.9], labels: [0, 1] } });
 * set.values.imageAuroc; // 1
 * ```
 */
export function evaluateMaps(input: MetricInput, options: MetricOptions = {}): MetricSet {
  const { integrationLimit = DEFAULT_INTEGRATION_LIMIT, fprMode = DEFAULT_FPR_MODE } = options;
  const values: Partial<Record<MetricKey, number>> = {};
  const warnings: string[] = [];
  if (input.image) {
    const { scores, labels } = input.image;
    values.imageAuroc = rocAuc(scores, labels);
    values.averagePrecision = averagePrecision(scores, labels);
    values.prAucTrapezoid = prAucTrapezoid(scores, labels);
  }
  let pixel: PixelFacts | null = null;
  if (input.pixel) {
    const { maps, masks } = input.pixel;
    const pro = auPro(maps, masks, { integrationLimit, fprMode, maxCurvePoints: PRO_CURVE_POINTS });
    warnings.push(...pro.warnings);
    if (pro.nRegions > 0 && pro.nOkPixels > 0) {
      values.pixelAuroc = pixelAuroc(maps, masks);
      values.vtadlCodePro = values.pixelAuroc; // the same number: what test.py prints as "PRO"
    } else {
      warnings.push("pixel AUROC is undefined: the masks do not contain both defect and normal pixels");
    }
    values.auPro = pro.auPro;
    pixel = {
      integrationLimit: pro.integrationLimit,
      fprMode: pro.fprMode,
      nRegions: pro.nRegions,
      nOkPixels: pro.nOkPixels,
      degenerate: pro.degenerate,
      scoreDtype: pro.scoreDtype,
      proCurve: { fpr: Array.from(pro.curve.fpr), pro: Array.from(pro.curve.pro) },
    };
  }
  return { values, pixel, warnings };
}

/** The `json`-style names of every metric written in that style, in report order. */
export const JSON_METRIC_NAMES: JsonMetricName[] = METRIC_KEYS.flatMap((k) => {
  const name: JsonMetricName | null = METRICS[k].names.json;
  return name === null ? [] : [name];
});

/** A metric set in the `json` key style: every metric (`null` where the input lacked its part), then facts. */
export type MetricJson = Record<JsonMetricName, number | null> & {
  n_regions: number | null;
  n_ok_pixels: number | null;
  integration_limit: number | null;
  fpr_mode: FprMode | null;
  au_pro_degenerate: boolean | null;
  warnings: string[];
};

/**
 * A metric set in the `json` key style of the `metrics` and `evaluate` commands.
 *
 * @example
 * ```ts
 * metricSetJson(evaluateMaps({ image: { scores: [0.1, 0.9], labels: [0, 1] } })).auroc; // 1
 * ```
 */
export function metricSetJson(set: MetricSet): MetricJson {
  const values = {} as Record<JsonMetricName, number | null>;
  for (const key of METRIC_KEYS) {
    const name: JsonMetricName | null = METRICS[key].names.json;
    if (name !== null) values[name] = set.values[key] ?? null;
  }
  return {
    ...values,
    n_regions: set.pixel?.nRegions ?? null,
    n_ok_pixels: set.pixel?.nOkPixels ?? null,
    integration_limit: set.pixel?.integrationLimit ?? null,
    fpr_mode: set.pixel?.fprMode ?? null,
    au_pro_degenerate: set.pixel?.degenerate ?? null,
    warnings: set.warnings,
  };
}

/** Where the numbers of a metric set came from, for {@linkcode metricSetEntries}. */
export interface MetricProvenance {
  /** Image score name. */
  imageScore: string;
  /** Anomaly-map kind. */
  anomalyMap: string;
  /** Facts attached to every pixel metric (resolution, heat-map σ). */
  pixelDetails?: Record<string, unknown>;
}

/**
 * A metric set in the `record` key style: one entry per present metric, in report order.
 *
 * @example
 * ```ts
 * const entries = metricSetEntries(set, { imageScore: "code", anomalyMap: "patchNll" });
 * ```
 */
export function metricSetEntries(set: MetricSet, provenance: MetricProvenance): MetricEntry[] {
  const limit = set.pixel?.integrationLimit ?? DEFAULT_INTEGRATION_LIMIT;
  const entries: MetricEntry[] = [];
  for (const key of METRIC_KEYS) {
    const value = set.values[key];
    if (value === undefined) continue;
    const spec: MetricSpec = METRICS[key];
    const entry: MetricEntry = {
      key,
      label: spec.label(limit),
      definition: spec.definition(limit),
      value,
      scoredBy: spec.level === "image" ? provenance.imageScore : provenance.anomalyMap,
    };
    if (spec.level === "pixel") {
      entry.details = { ...provenance.pixelDetails };
      if (key === "auPro" && set.pixel) {
        Object.assign(entry.details, {
          fprMode: set.pixel.fprMode,
          nRegions: set.pixel.nRegions,
          nOkPixels: set.pixel.nOkPixels,
          degenerate: set.pixel.degenerate,
          warnings: set.warnings,
        });
      }
    }
    entries.push(entry);
  }
  return entries;
}
