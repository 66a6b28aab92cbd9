/**
 * `metrics FILE.json`: the scripting and cross-checking interface of the metric engine. Reads image
 * scores + labels and/or anomaly maps + masks from JSON and prints one JSON object with full-precision
 * floats. Keys are always present; a part the input lacks is `null`.
 *
 * @module
 */
import {
  DEFAULT_FPR_MODE,
  DEFAULT_INTEGRATION_LIMIT,
  FPR_MODES,
  type FprMode,
  selectDialectVariants,
} from "../core/metrics.ts";
import { evaluateMaps, JSON_METRIC_NAMES, type MetricInput, metricSetJson } from "../eval/metric_set.ts";
import { defineCommand, enumFlag, numberFlag } from "./command.ts";
import { DIALECTS_FLAG } from "./dialects_flag.ts";

/** What `metrics` prints: the `json` key style of {@linkcode metricSetJson}. */
export type MetricsOutput = ReturnType<typeof metricSetJson>;

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
  overrides: { integrationLimit?: number; fprMode?: FprMode; dialects?: string[] } = {},
): MetricsOutput {
  if (typeof input !== "object" || input === null || Array.isArray(input)) {
    throw new Error('input: expected a JSON object with "scores"/"labels" and/or "maps"/"masks"');
  }
  const o = input as Record<string, unknown>;
  const hasImage = "scores" in o || "labels" in o;
  const hasPixel = "maps" in o || "masks" in o;
  if (!hasImage && !hasPixel) {
    throw new Error('input: found neither "scores"/"labels" nor "maps"/"masks"');
  }
  const metricInput: MetricInput = {};
  if (hasImage) {
    if (!isNumberArray(o.scores) || !isNumberArray(o.labels)) {
      throw new Error('input: "scores" and "labels" must both be arrays of numbers (labels 0 or 1)');
    }
    metricInput.image = { scores: o.scores, labels: o.labels };
  }
  let integrationLimit: number | undefined, fprMode: FprMode | undefined;
  if (hasPixel) {
    if (!Array.isArray(o.maps) || !Array.isArray(o.masks)) {
      throw new Error('input: "maps" and "masks" must both be arrays of H×W nested arrays');
    }
    metricInput.pixel = {
      maps: o.maps.map((m, i) => grid(m, `maps[${i}]`, (n) => new Float64Array(n), (x) => x)),
      masks: o.masks.map((m, i) =>
        grid(m, `masks[${i}]`, (n) => new Uint8Array(n), (x) => (x !== 0 ? 1 : 0))
      ),
    };
    const limit = overrides.integrationLimit ?? o.integration_limit ?? DEFAULT_INTEGRATION_LIMIT;
    if (typeof limit !== "number") throw new Error('input: "integration_limit" must be a number in (0, 1]');
    integrationLimit = limit;
    fprMode = (overrides.fprMode ?? o.fpr_mode ?? DEFAULT_FPR_MODE) as FprMode;
  }
  const dialects = overrides.dialects !== undefined ? selectDialectVariants(overrides.dialects) : undefined;
  return metricSetJson(evaluateMaps(metricInput, { integrationLimit, fprMode, dialects }), {
    dialects: dialects !== undefined,
  });
}

/** The `metrics` subcommand. */
export const command = defineCommand({
  name: "metrics",
  summary: "Compute AUROC / AP / PR-AUC / pixel AUROC / AU-PRO from a JSON file",
  usage: "FILE.json [--limit L] [--fpr-mode MODE] [--dialects all|NAME,...]",
  description: 'FILE.json holds {"scores": [...], "labels": [0|1, ...]} and/or {"maps": [H×W arrays], ' +
    '"masks": [H×W arrays, non-zero = defect]}, optionally "integration_limit" (default 0.3) and ' +
    `"fpr_mode". Use - to read standard input. Prints one JSON object: ${JSON_METRIC_NAMES.join(", ")}, ` +
    "n_regions, n_ok_pixels (null where the input lacks that part), plus integration_limit, fpr_mode, " +
    "au_pro_degenerate, warnings and dialect (official: the dialect of every number above). " +
    "--dialects adds dialect_values: the variants published numbers used, each naming its dialect.",
  flags: {
    limit: numberFlag({
      description: "AU-PRO FPR limit in (0, 1] (overrides the file).",
      min: Number.MIN_VALUE,
      max: 1,
      valueName: "L",
    }),
    "fpr-mode": enumFlag(FPR_MODES, {
      description: "FPR rounding of AU-PRO (overrides the file).",
      valueName: "MODE",
    }),
    ...DIALECTS_FLAG,
  },
  positionals: { min: 1, max: 1, names: "FILE.json" },
  async run(flags, [file]) {
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
    const output = computeMetrics(input, {
      integrationLimit: flags.limit,
      fprMode: flags["fpr-mode"],
      dialects: flags.dialects,
    });
    console.log(JSON.stringify(output));
    return 0;
  },
});
