/**
 * `metrics FILE.json`: the scripting and cross-checking interface of the metric engine. Reads image
 * scores + labels and/or anomaly maps + masks from JSON and prints one JSON object with full-precision
 * floats. Keys are always present; a part the input lacks is `null`.
 *
 * @module
 */
import { auPro, averagePrecision, pixelAuroc, prAucTrapezoid, rocAuc } from "../metrics/mod.ts";
import type { FprMode, MaskMap, ScoreMap } from "../metrics/mod.ts";
import { type Command, numberFlag, UsageError } from "./command.ts";

/** What `metrics` prints. */
export interface MetricsOutput {
  /** Image ROC-AUC (sklearn `roc_auc_score`), or null without scores. */
  auroc: number | null;
  /** Image average precision (sklearn `average_precision_score`), or null. */
  average_precision: number | null;
  /** Image PR-AUC by trapezoid (sklearn `auc(recall, precision)`; VT-ADL's "PR AUC"), or null. */
  pr_auc: number | null;
  /** Pooled pixel ROC-AUC over all pixels of all maps (= VT-ADL code's "PRO"), or null without maps. */
  pixel_auroc: number | null;
  /** AU-PRO up to `integration_limit` (official MVTec AD algorithm), or null without maps. */
  au_pro: number | null;
  /** 8-connected defect regions over all masks, or null. */
  n_regions: number | null;
  /** Mask-0 pixels over all images, or null. */
  n_ok_pixels: number | null;
  /** FPR limit used for AU-PRO, or null. */
  integration_limit: number | null;
  /** FPR rounding used for AU-PRO, or null. */
  fpr_mode: FprMode | null;
  /** True when AU-PRO is the official degenerate value (no region or no OK pixel), or null. */
  au_pro_degenerate: boolean | null;
  /** Warnings (degenerate AU-PRO, one-class pixel labels). */
  warnings: string[];
}

function isNumberArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.every((x) => typeof x === "number");
}

/** Converts a nested H×W JSON array into a row-major typed array, naming the bad item on error. */
function grid<T extends Float64Array | Uint8Array>(
  value: unknown,
  what: string,
  make: (n: number) => T,
  convert: (x: number) => number,
): { width: number; height: number; data: T } {
  if (!Array.isArray(value) || value.length === 0 || !Array.isArray(value[0])) {
    throw new Error(`${what}: expected a non-empty array of rows (H×W nested arrays of numbers)`);
  }
  const height = value.length, width = (value[0] as unknown[]).length;
  if (width === 0) throw new Error(`${what}: rows are empty`);
  const data = make(width * height);
  for (let y = 0; y < height; y++) {
    const row = value[y];
    if (!isNumberArray(row) || row.length !== width) {
      throw new Error(
        `${what}: row ${y} is not an array of ${width} numbers (all rows must have the same length)`,
      );
    }
    for (let x = 0; x < width; x++) data[y * width + x] = convert(row[x]);
  }
  return { width, height, data };
}

/**
 * Computes every metric the parsed input allows. `input` is the parsed JSON:
 * `{ scores?, labels?, maps?, masks?, integration_limit?, fpr_mode? }`.
 */
export function computeMetrics(
  input: unknown,
  overrides: { integrationLimit?: number; fprMode?: FprMode } = {},
): MetricsOutput {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error('input: expected a JSON object with "scores"/"labels" and/or "maps"/"masks"');
  }
  const o = input as Record<string, unknown>;
  const out: MetricsOutput = {
    auroc: null,
    average_precision: null,
    pr_auc: null,
    pixel_auroc: null,
    au_pro: null,
    n_regions: null,
    n_ok_pixels: null,
    integration_limit: null,
    fpr_mode: null,
    au_pro_degenerate: null,
    warnings: [],
  };
  const hasImage = "scores" in o || "labels" in o;
  const hasPixel = "maps" in o || "masks" in o;
  if (!hasImage && !hasPixel) {
    throw new Error('input: found neither "scores"/"labels" nor "maps"/"masks"');
  }
  if (hasImage) {
    if (!isNumberArray(o.scores) || !isNumberArray(o.labels)) {
      throw new Error('input: "scores" and "labels" must both be arrays of numbers (labels 0 or 1)');
    }
    out.auroc = rocAuc(o.scores, o.labels);
    out.average_precision = averagePrecision(o.scores, o.labels);
    out.pr_auc = prAucTrapezoid(o.scores, o.labels);
  }
  if (hasPixel) {
    if (!Array.isArray(o.maps) || !Array.isArray(o.masks)) {
      throw new Error('input: "maps" and "masks" must both be arrays of H×W nested arrays');
    }
    const maps: ScoreMap[] = o.maps.map((m, i) =>
      grid(m, `maps[${i}]`, (n) => new Float64Array(n), (x) => x)
    );
    const masks: MaskMap[] = o.masks.map((m, i) =>
      grid(m, `masks[${i}]`, (n) => new Uint8Array(n), (x) => (x !== 0 ? 1 : 0))
    );
    const limit = overrides.integrationLimit ?? o.integration_limit ?? 0.3;
    if (typeof limit !== "number") throw new Error('input: "integration_limit" must be a number in (0, 1]');
    const fprMode = overrides.fprMode ?? o.fpr_mode ?? "float32";
    const pro = auPro(maps, masks, {
      integrationLimit: limit,
      fprMode: fprMode as FprMode,
      maxCurvePoints: 2,
    });
    out.au_pro = pro.auPro;
    out.n_regions = pro.nRegions;
    out.n_ok_pixels = pro.nOkPixels;
    out.integration_limit = pro.integrationLimit;
    out.fpr_mode = pro.fprMode;
    out.au_pro_degenerate = pro.degenerate;
    out.warnings.push(...pro.warnings);
    if (pro.nRegions === 0 || pro.nOkPixels === 0) {
      out.warnings.push("pixel AUROC is undefined: the masks do not contain both defect and normal pixels");
    } else out.pixel_auroc = pixelAuroc(maps, masks);
  }
  return out;
}

const FPR_MODES = ["float32", "float32_numpy1", "float64"];

/** The `metrics` subcommand. */
export const command: Command = {
  name: "metrics",
  summary: "Compute AUROC / AP / PR-AUC / pixel AUROC / AU-PRO from a JSON file",
  usage: "FILE.json [--limit L] [--fpr-mode MODE]",
  description: 'FILE.json holds {"scores": [...], "labels": [0|1, ...]} and/or {"maps": [H×W arrays], ' +
    '"masks": [H×W arrays, non-zero = defect]}, optionally "integration_limit" (default 0.3) and ' +
    '"fpr_mode". Use - to read standard input. Prints one JSON object: auroc, average_precision, pr_auc, ' +
    "pixel_auroc, au_pro, n_regions, n_ok_pixels (null where the input lacks that part), plus " +
    "integration_limit, fpr_mode, au_pro_degenerate and warnings.",
  flags: {
    limit: { type: "string", valueName: "L", description: "AU-PRO FPR limit in (0, 1] (overrides the file)" },
    "fpr-mode": {
      type: "string",
      valueName: "MODE",
      description: "FPR rounding: float32 (official, NumPy ≥ 2), float32_numpy1 or float64",
    },
  },
  positionals: { min: 1, max: 1, names: "FILE.json" },
  async run(flags, [file]) {
    const integrationLimit = numberFlag(flags, "limit", { min: Number.MIN_VALUE, max: 1 });
    const fprMode = flags["fpr-mode"] as string | undefined;
    if (fprMode !== undefined && !FPR_MODES.includes(fprMode)) {
      throw new UsageError(`--fpr-mode: expected one of ${FPR_MODES.join(", ")}, got '${fprMode}'`);
    }
    let text: string;
    try {
      text = file === "-" ? await new Response(Deno.stdin.readable).text() : await Deno.readTextFile(file);
    } catch (error) {
      throw new Error(`${file}: cannot read (${error instanceof Error ? error.message : error})`);
    }
    let input: unknown;
    try {
      input = JSON.parse(text);
    } catch (error) {
      throw new Error(`${file}: not valid JSON (${error instanceof Error ? error.message : error})`);
    }
    const output = computeMetrics(input, { integrationLimit, fprMode: fprMode as FprMode | undefined });
    console.log(JSON.stringify(output));
    return 0;
  },
};
