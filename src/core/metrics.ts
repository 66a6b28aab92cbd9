/**
 * The metric vocabulary as data: every metric key the harness reports, its level (image or pixel), its
 * label, the definition it follows (the keys of `docs/metrics.md`), its table header and its name in each
 * output key style; the FPR rounding modes and the default AU-PRO integration limit.
 *
 * A number is computed once (`src/eval/metric_set.ts`) and named only at the output edge: run records use
 * the `record` style (`imageAuroc`), the `metrics` and `evaluate` commands the `json` style (`auroc`).
 * Adding a metric, or a new way of naming metrics, is adding data here.
 *
 * @module
 */
import { FPR_MODES, type FprMode } from "../metrics/pro.ts";
import { UsageError } from "./errors.ts";

export { FPR_MODES };
export type { FprMode };

/** AU-PRO is integrated up to this FPR unless told otherwise (the MVTec AD convention). */
export const DEFAULT_INTEGRATION_LIMIT = 0.3;

/** FPR rounding of the official evaluation under NumPy ≥ 2. */
export const DEFAULT_FPR_MODE: FprMode = "float32";

/** Every metric a run record can carry, in report order. */
export const METRIC_KEYS = [
  "imageAuroc",
  "averagePrecision",
  "prAucTrapezoid",
  "pixelAuroc",
  "vtadlCodePro",
  "auPro",
] as const;

/** A metric key (the `record` key style). */
export type MetricKey = typeof METRIC_KEYS[number];

/** How metric names are spelled in an output: run records (camelCase) or command JSON (snake_case). */
export const KEY_STYLES = ["record", "json"] as const;
/** A key style. */
export type KeyStyle = typeof KEY_STYLES[number];

/** Everything the harness knows about one metric. */
export interface MetricSpec {
  key: MetricKey;
  /** `image`: from image scores and labels; `pixel`: from anomaly maps and masks. */
  level: "image" | "pixel";
  /** What it is, for a reader comparing it with a published number. */
  label(integrationLimit: number): string;
  /** The definition it follows (`docs/metrics.md`), e.g. `image-AUROC`, `AU-PRO@0.3`. */
  definition(integrationLimit: number): string;
  /** Short column header. */
  header(integrationLimit: number): string;
  /** Its name in each key style; `null`: not written in that style (a duplicate under another name). */
  names: Record<KeyStyle, string | null>;
}

const fixed = (text: string) => () => text;

/**
 * Every metric's spec, by key.
 *
 * @example
 * ```ts
 * METRICS.auPro.definition(0.3); // "AU-PRO@0.3"
 * ```
 */
export const METRICS = {
  imageAuroc: {
    key: "imageAuroc",
    level: "image",
    label: fixed("image ROC-AUC"),
    definition: fixed("image-AUROC"),
    header: fixed("image AUROC"),
    names: { record: "imageAuroc", json: "auroc" },
  },
  averagePrecision: {
    key: "averagePrecision",
    level: "image",
    label: fixed("average precision"),
    definition: fixed("AP"),
    header: fixed("AP"),
    names: { record: "averagePrecision", json: "average_precision" },
  },
  prAucTrapezoid: {
    key: "prAucTrapezoid",
    level: "image",
    label: fixed("PR-AUC (trapezoid, VT-ADL's 'PR AUC')"),
    definition: fixed("PR-AUC/trap"),
    header: fixed("PR-AUC/trap"),
    names: { record: "prAucTrapezoid", json: "pr_auc" },
  },
  pixelAuroc: {
    key: "pixelAuroc",
    level: "pixel",
    label: fixed("pixel ROC-AUC (all test images)"),
    definition: fixed("pixel-AUROC/all"),
    header: fixed("pixel AUROC"),
    names: { record: "pixelAuroc", json: "pixel_auroc" },
  },
  // The same number as pixelAuroc under the name VT-ADL's test.py prints ("PRO"), so that a table can
  // put it beside the paper's "PRO" column without calling it AU-PRO.
  vtadlCodePro: {
    key: "vtadlCodePro",
    level: "pixel",
    label: fixed("VT-ADL-code PRO (= pixel ROC-AUC, all images)"),
    definition: fixed("pixel-AUROC/all"),
    header: fixed('code "PRO" (= pixel AUROC)'),
    names: { record: "vtadlCodePro", json: null },
  },
  auPro: {
    key: "auPro",
    level: "pixel",
    label: (limit) => `AU-PRO@${limit} (official MVTec algorithm)`,
    definition: (limit) => `AU-PRO@${limit}`,
    header: (limit) => `AU-PRO@${limit}`,
    names: { record: "auPro", json: "au_pro" },
  },
} as const satisfies Readonly<Record<MetricKey, MetricSpec>>;

/** A metric's name in the `json` key style (`auroc`, `pr_auc`, …). */
export type JsonMetricName = NonNullable<(typeof METRICS)[MetricKey]["names"]["json"]>;

/** The metric keys of one level, in report order. */
export function metricKeysOf(level: "image" | "pixel"): MetricKey[] {
  return METRIC_KEYS.filter((k) => (METRICS[k] as MetricSpec).level === level);
}

// ---------------------------------------------------------------------------------------------------------
// Metric dialects: the names of the ways published code computes a metric, and the extra variants
// `--dialects` computes. The functions and their sources live in `src/metrics/dialects.ts`.

/**
 * The dialect vocabulary. Every number the harness writes names one: the metrics of {@linkcode METRICS}
 * are all `official`; the variants of {@linkcode DIALECT_VARIANTS} name theirs.
 */
export const METRIC_DIALECT_NAMES = [
  "official",
  "ader-avgpool16",
  "ader-21",
  "ader-100",
  "ader-200",
  "cflow-1000",
  "anomalib-legacy",
] as const;
/** A dialect name. */
export type MetricDialectName = typeof METRIC_DIALECT_NAMES[number];

/** One line per dialect: whose code computes numbers this way. */
export const METRIC_DIALECT_DESCRIPTIONS: Readonly<Record<MetricDialectName, string>> = {
  official:
    "the reference definition: the official MVTec AD evaluation (AU-PRO, image score = max of map), scikit-learn (AUROC, AP, PR-AUC)",
  "ader-avgpool16": "ADer: image score = max of the 16×16-average-pooled anomaly map",
  "ader-21": "ADer: pixel F1-max over 21 thresholds of min–max normalised maps",
  "ader-100": "ADer configs: AU-PRO from 100 sampled thresholds, FPR min–max rescaled",
  "ader-200": "ADer default: AU-PRO from 200 sampled thresholds, FPR min–max rescaled",
  "cflow-1000": "cflow-ad (from DFR): AU-PRO from 1000 sampled thresholds, FPR min–max rescaled",
  "anomalib-legacy": "anomalib ≤ 2.2: AU-PRO from per-region resampled curves, divided by the last FPR",
};

/** An extra metric variant `--dialects` can compute beside the official metrics. */
export interface DialectVariantSpec {
  /** Stable key (records, JSON output, `--dialects`). */
  key: string;
  /** The official metric this is another dialect of (tables compare it there); null for F1-max. */
  metric: MetricKey | null;
  /** Its dialect. */
  dialect: MetricDialectName;
  /** What it needs: `image` (image scores + labels) or `pixel` (anomaly maps + masks; map scores take the label from the mask). */
  needs: "image" | "pixel";
  /** The computing function's key in `src/metrics/dialects.ts` (`METRIC_DIALECTS`). */
  engine: string;
  /** For image metrics over scores derived from the map: the image-score dialect's key there. */
  imageScore?: string;
  /** Short column header. */
  header: string;
}

/**
 * The extra variants, in report order. AU-PRO variants exist at the 0.3 limit only (the implementations
 * they copy hard-code it).
 *
 * @example
 * ```ts
 * DIALECT_VARIANTS.find((v) => v.key === "au-pro/ader-200")!.dialect; // "ader-200"
 * ```
 */
export const DIALECT_VARIANTS: readonly DialectVariantSpec[] = [
  {
    key: "image-auroc/map-max",
    metric: "imageAuroc",
    dialect: "official",
    needs: "pixel",
    engine: "image-auroc/sklearn",
    imageScore: "image-score/max",
    header: "image AUROC (max of map)",
  },
  {
    key: "image-auroc/ader-avgpool16",
    metric: "imageAuroc",
    dialect: "ader-avgpool16",
    needs: "pixel",
    engine: "image-auroc/sklearn",
    imageScore: "image-score/ader-avgpool16-max",
    header: "image AUROC (ADer 16×16 pool)",
  },
  {
    key: "f1-max/image",
    metric: null,
    dialect: "official",
    needs: "image",
    engine: "f1-max/image",
    header: "F1-max image",
  },
  {
    key: "f1-max/pixel",
    metric: null,
    dialect: "official",
    needs: "pixel",
    engine: "f1-max/pixel",
    header: "F1-max pixel",
  },
  {
    key: "f1-max/pixel-ader-21",
    metric: null,
    dialect: "ader-21",
    needs: "pixel",
    engine: "f1-max/pixel-ader-21",
    header: "F1-max pixel (ADer 21)",
  },
  {
    key: "au-pro/cflow-1000",
    metric: "auPro",
    dialect: "cflow-1000",
    needs: "pixel",
    engine: "au-pro@0.3/cflow-1000",
    header: "AU-PRO@0.3 (cflow 1000)",
  },
  {
    key: "au-pro/ader-200",
    metric: "auPro",
    dialect: "ader-200",
    needs: "pixel",
    engine: "au-pro@0.3/ader-200",
    header: "AU-PRO@0.3 (ADer 200)",
  },
  {
    key: "au-pro/ader-100",
    metric: "auPro",
    dialect: "ader-100",
    needs: "pixel",
    engine: "au-pro@0.3/ader-100",
    header: "AU-PRO@0.3 (ADer 100)",
  },
  {
    key: "au-pro/anomalib-legacy",
    metric: "auPro",
    dialect: "anomalib-legacy",
    needs: "pixel",
    engine: "au-pro@0.3/anomalib-legacy",
    header: "AU-PRO@0.3 (anomalib ≤ 2.2)",
  },
];

/**
 * The variants a `--dialects` list selects: `all`, dialect names (every variant in that dialect; `official`
 * selects the official extras, e.g. F1-max) and variant keys may be mixed. An empty list selects none.
 * Throws a {@linkcode UsageError} naming the accepted values.
 *
 * @example
 * ```ts
 * selectDialectVariants(["ader-200", "f1-max/image"]).map((v) => v.key); // ["f1-max/image", "au-pro/ader-200"]
 * ```
 */
export function selectDialectVariants(names: readonly string[]): DialectVariantSpec[] {
  const wanted = new Set<string>();
  for (const raw of names) {
    const name = raw.trim();
    if (name === "") continue;
    if (name === "all") {
      for (const v of DIALECT_VARIANTS) wanted.add(v.key);
      continue;
    }
    const matches = DIALECT_VARIANTS.filter((v) => v.key === name || v.dialect === name);
    if (matches.length === 0) {
      throw new UsageError(
        `--dialects: unknown dialect or variant '${name}'; use all, a dialect (${
          METRIC_DIALECT_NAMES.join(", ")
        }) or a variant (${DIALECT_VARIANTS.map((v) => v.key).join(", ")})`,
      );
    }
    for (const v of matches) wanted.add(v.key);
  }
  return DIALECT_VARIANTS.filter((v) => wanted.has(v.key));
}
