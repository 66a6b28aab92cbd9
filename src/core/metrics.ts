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
