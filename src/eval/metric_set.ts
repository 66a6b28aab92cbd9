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
  type DialectVariantSpec,
  type FprMode,
  type JsonMetricName,
  METRIC_KEYS,
  type MetricKey,
  METRICS,
  type MetricSpec,
} from "../core/metrics.ts";
import {
  averagePrecision,
  dialectByKey,
  pooledPixelMetrics,
  prAucTrapezoid,
  rocAuc,
} from "../metrics/mod.ts";
import type { MaskMap, ScoreMap } from "../metrics/mod.ts";
import type { DialectValue, MetricEntry } from "../runs/record.ts";

export type { DialectValue, MetricEntry };

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
  /** Extra dialect variants to compute (`selectDialectVariants`); default none. */
  dialects?: readonly DialectVariantSpec[];
}

/** One computed dialect variant. */
export interface DialectResult {
  variant: DialectVariantSpec;
  value: number;
  /** The definition family it belongs to (`AU-PRO@0.3`, `F1-max/image`, …). */
  definition: string;
  label: string;
  source: string;
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
  /** The dialect variants asked for that the input allows, in `DIALECT_VARIANTS` order. */
  dialectValues: DialectResult[];
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
    // One ordering of the pooled pixels serves both metrics.
    const { auPro: pro, pixelAuroc } = pooledPixelMetrics(maps, masks, {
      integrationLimit,
      fprMode,
      maxCurvePoints: PRO_CURVE_POINTS,
    });
    warnings.push(...pro.warnings);
    if (pixelAuroc !== null) {
      values.pixelAuroc = pixelAuroc;
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
  const dialectValues = computeDialects(input, options.dialects ?? [], integrationLimit, pixel, warnings);
  return { values, pixel, warnings, dialectValues };
}

/**
 * Computes the asked-for dialect variants the input allows; a variant it cannot compute (no maps, a map
 * smaller than ADer's 16×16 window, a limit other than the 0.3 the sampled AU-PROs hard-code, no defect
 * region) is left out with a warning.
 */
function computeDialects(
  input: MetricInput,
  variants: readonly DialectVariantSpec[],
  integrationLimit: number,
  pixel: PixelFacts | null,
  warnings: string[],
): DialectResult[] {
  const results: DialectResult[] = [];
  for (const variant of variants) {
    const engine = dialectByKey(variant.engine);
    const skip = (why: string) => warnings.push(`dialect ${variant.key} not computed: ${why}`);
    if (variant.needs === "pixel" && !input.pixel) {
      skip("the input has no anomaly maps");
      continue;
    }
    if (variant.needs === "image" && !input.image) {
      skip("the input has no image scores");
      continue;
    }
    let value: number;
    let label = engine.label, source = engine.source;
    try {
      if (variant.imageScore !== undefined) {
        const score = dialectByKey(variant.imageScore);
        if (score.kind !== "image-score" || engine.kind !== "image-metric") {
          throw new Error(`${variant.key}: ${variant.imageScore} / ${variant.engine} do not combine`);
        }
        // As the official evaluation: an image is anomalous when its mask has a defect pixel.
        const { maps, masks } = input.pixel!;
        const labels = masks.map((m) => (m.data.some((v) => v !== 0) ? 1 : 0));
        value = engine.compute(maps.map((m) => score.compute(m)), labels);
        label = `${engine.label}, ${score.label}`;
        source = `${score.source}; ${engine.source}`;
      } else if (engine.kind === "image-metric") {
        value = engine.compute(input.image!.scores, input.image!.labels);
      } else if (engine.kind === "pixel-metric") {
        if (engine.family.startsWith("AU-PRO") && integrationLimit !== 0.3) {
          skip(`its implementation integrates to 0.3 only (limit is ${integrationLimit})`);
          continue;
        }
        if (pixel !== null && (pixel.nRegions === 0 || pixel.nOkPixels === 0)) {
          skip("the masks do not contain both defect and normal pixels");
          continue;
        }
        value = engine.compute(input.pixel!.maps, input.pixel!.masks);
      } else {
        throw new Error(`${variant.key}: engine ${variant.engine} is an image score, not a metric`);
      }
    } catch (error) {
      if (error instanceof RangeError) {
        skip(error.message);
        continue;
      }
      throw error;
    }
    if (!Number.isFinite(value)) {
      // e.g. anomalib ≤ 2.2's AU-PRO on maps whose curve it cannot resample; a record holds numbers only.
      skip(`its implementation returned ${value} on this input`);
      continue;
    }
    results.push({ variant, value, definition: engine.family, label, source });
  }
  return results;
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
  /** The dialect of every metric above: always `official` (the variants are in `dialect_values`). */
  dialect: "official";
  /** Present only when dialect variants were asked for. */
  dialect_values?: DialectValueJson[];
};

/** One dialect variant in the `json` key style. */
export interface DialectValueJson {
  variant: string;
  /** The `json` name of the official metric it is another dialect of (null for F1-max). */
  metric: JsonMetricName | null;
  definition: string;
  dialect: string;
  label: string;
  value: number;
}

/** Dialect values in the `json` key style. */
export function dialectValuesJson(set: MetricSet): DialectValueJson[] {
  return set.dialectValues.map((d) => ({
    variant: d.variant.key,
    metric: d.variant.metric === null ? null : METRICS[d.variant.metric].names.json,
    definition: d.definition,
    dialect: d.variant.dialect,
    label: d.label,
    value: d.value,
  }));
}

/**
 * A metric set in the `json` key style of the `metrics` and `evaluate` commands.
 *
 * @example
 * ```ts
 * metricSetJson(evaluateMaps({ image: { scores: [0.1, 0.9], labels: [0, 1] } })).auroc; // 1
 * ```
 */
export function metricSetJson(set: MetricSet, { dialects = false }: { dialects?: boolean } = {}): MetricJson {
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
    dialect: "official",
    ...(dialects ? { dialect_values: dialectValuesJson(set) } : {}),
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
      dialect: "official",
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

/**
 * The dialect variants of a metric set in the `record` style (`dialectValues` of a run record).
 *
 * @example
 * ```ts
 * const extra = dialectValueEntries(set, { imageScore: "code", anomalyMap: "patchNll" });
 * ```
 */
export function dialectValueEntries(set: MetricSet, provenance: MetricProvenance): DialectValue[] {
  return set.dialectValues.map((d) => ({
    variant: d.variant.key,
    metric: d.variant.metric,
    definition: d.definition,
    dialect: d.variant.dialect,
    label: d.label,
    value: d.value,
    scoredBy: d.variant.imageScore !== undefined
      ? `${d.variant.imageScore} of ${provenance.anomalyMap}`
      : d.variant.needs === "image"
      ? provenance.imageScore
      : provenance.anomalyMap,
    source: d.source,
  }));
}
