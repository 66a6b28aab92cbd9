/**
 * `evaluate --maps DIR --gt DIR`: evaluates any method's anomaly maps against MVTec-style ground truth,
 * per category, like the official MVTec AD `evaluate_experiment.py` (image score = max of the map, AU-PRO
 * up to an FPR limit) plus the other metrics of the engine. Prints a table and writes JSON atomically.
 *
 * @module
 */
import { type MaskMap, type ScoreMap, setKeyArrayAdvisor } from "../metrics/mod.ts";
import {
  DEFAULT_FPR_MODE,
  DEFAULT_INTEGRATION_LIMIT,
  FPR_MODES,
  type FprMode,
  type JsonMetricName,
  selectDialectVariants,
} from "../core/metrics.ts";
import { UsageError } from "../core/errors.ts";
import { type Breakdowns, defectBreakdown, wholeCategory } from "../eval/breakdown.ts";
import { defectBreakdownInWorker } from "../eval/breakdown_parallel.ts";
import { adviseHugePages } from "../util/huge_pages.ts";
import { type DialectValueJson, evaluateMaps, JSON_METRIC_NAMES, metricSetJson } from "../eval/metric_set.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { booleanFlag, defineCommand, enumFlag, listFlag, numberFlag, stringFlag } from "./command.ts";
import { DIALECTS_FLAG } from "./dialects_flag.ts";
import { MapReader, nameList, pairCategory } from "./map_files.ts";
import { dialectMeans, renderBreakdownText, renderDialectText } from "./evaluate_extras.ts";

/** Metrics of one category (keys as in the `metrics` command's output). */
export interface CategoryResult {
  n_images: number;
  n_anomalous: number;
  /** Image ROC-AUC (image score = max of map, or the scores file). */
  auroc: number;
  average_precision: number;
  /** Trapezoidal PR-AUC (VT-ADL's "PR AUC"). */
  pr_auc: number;
  /** Pooled pixel ROC-AUC (VT-ADL code's "PRO"); null if the masks have no defect pixel. */
  pixel_auroc: number | null;
  /** AU-PRO up to the limit, official MVTec AD algorithm. */
  au_pro: number;
  n_regions: number;
  n_ok_pixels: number;
  au_pro_degenerate: boolean;
  /** Precision the map scores were compared at. */
  map_dtype: "float32" | "float64";
  /** Map size(s) as "W×H" (the official script requires one size per category). */
  map_sizes: string[];
  warnings: string[];
  /** The dialect of every metric above (`official`); the variants asked for are in `dialect_values`. */
  dialect: "official";
  /** With `--dialects`: the extra variants, each naming its dialect. */
  dialect_values?: DialectValueJson[];
  /** Image AUROC and AU-PRO per defect type (each vs the good images); absent with `--no-breakdown`. */
  breakdown?: Breakdowns | null;
}

/** The JSON `evaluate` writes. */
export interface EvaluationReport {
  tool: "vtadl-bench evaluate";
  settings: {
    maps: string;
    gt: string;
    integration_limit: number;
    fpr_mode: FprMode;
    image_score: string;
  };
  categories: Record<string, CategoryResult>;
  /** Unweighted mean over categories of each metric (null if some category lacks it). */
  mean: Record<JsonMetricName, number | null>;
  /** With `--dialects`: the unweighted mean over categories of each variant (null if some category lacks it). */
  mean_dialect_values?: Record<string, number | null>;
}

/** Options of {@linkcode evaluateTree}. */
export interface EvaluateOptions {
  mapsDir: string;
  gtDir: string;
  categories?: string[];
  integrationLimit?: number;
  fprMode?: FprMode;
  /** Extra dialect variants (keys or dialect names, or `all`); default none. */
  dialects?: string[];
  /** Per-defect-type breakdown. Default true. */
  breakdown?: boolean;
  /** Image scores keyed `<category>/test/<defect>/<stem>`; default: max of each map. */
  scores?: Record<string, number>;
  scoresLabel?: string;
}

async function subdirectories(path: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(path)) {
      if (e.isDirectory && !e.name.startsWith(".")) names.push(e.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new Error(`${path}: folder not found`);
    throw error;
  }
  return names.sort();
}

/** The largest score of a map; throws, naming the file, row and column, on a NaN or infinite score. */
function finiteMax(map: ScoreMap, path: string): number {
  const data = map.data;
  let m = -Infinity;
  for (let p = 0; p < data.length; p++) {
    const v = data[p];
    if (v > m) m = v;
    else if (v !== v || v === -Infinity) throwFirstNonFinite(map, path);
  }
  if (m === Infinity) throwFirstNonFinite(map, path);
  return m;
}

function throwFirstNonFinite(map: ScoreMap, path: string): never {
  const p = map.data.findIndex((v) => !Number.isFinite(v));
  const row = Math.floor(p / map.width);
  throw new Error(
    `${path}: score at pixel ${p} (row ${row}, column ${p - row * map.width}) is ${
      map.data[p]
    }; maps must be finite`,
  );
}

/** Map reads kept in flight while the previous maps are checked and their masks decoded. */
const MAPS_AHEAD = 4;

/**
 * Reads `paths` in order with up to {@linkcode MAPS_AHEAD} reads in flight: the runtime performs file
 * reads (and the page faults of the new arrays) on its own threads, so they overlap the work on the
 * previous maps. A failed read surfaces at its turn, as a sequential loop would report it.
 */
function readAhead<T>(paths: string[], read: (path: string) => Promise<T>): { next(): Promise<T> } {
  const pending: (Promise<T> | undefined)[] = [];
  const start = (k: number) => {
    if (k >= paths.length) return;
    const p = read(paths[k]);
    p.catch(() => {}); // handled when awaited at its turn; until then not an unhandled rejection
    pending[k] = p;
  };
  for (let k = 0; k < MAPS_AHEAD; k++) start(k);
  let turn = 0;
  return {
    next(): Promise<T> {
      const p = pending[turn];
      if (p === undefined) throw new Error("readAhead: no path left");
      pending[turn] = undefined;
      start(turn + MAPS_AHEAD);
      turn++;
      return p;
    },
  };
}

/** Evaluates every category (default: every sub-folder of `mapsDir`). */
export async function evaluateTree(options: EvaluateOptions): Promise<EvaluationReport> {
  const { mapsDir, gtDir, integrationLimit = DEFAULT_INTEGRATION_LIMIT, fprMode = DEFAULT_FPR_MODE, scores } =
    options;
  const dialects = options.dialects !== undefined ? selectDialectVariants(options.dialects) : undefined;
  const categories = options.categories ?? await subdirectories(mapsDir);
  if (categories.length === 0) {
    throw new Error(`${mapsDir}: no category folders (expected <category>/test/<defect>/<stem>.tiff)`);
  }
  const usedScoreKeys = new Set<string>();
  const results: Record<string, CategoryResult> = {};
  for (const category of categories) {
    const items = await pairCategory(mapsDir, gtDir, category);
    if (scores) {
      const missing = items.filter((i) => typeof scores[i.key] !== "number").map((i) => i.key);
      if (missing.length > 0) {
        throw new Error(`scores file: ${missing.length} image score(s) missing: ${nameList(missing)}`);
      }
    }
    const maps: ScoreMap[] = [], masks: MaskMap[] = [];
    const imageScores: number[] = [], labels: number[] = [];
    const sizes = new Set<string>();
    const reader = new MapReader();
    const noDefect = new Map<number, Uint8Array>(); // one shared all-zero mask per size (only read)
    const ahead = readAhead(items.map((i) => i.mapPath), (path) => reader.map(path));
    for (const item of items) {
      const map = await ahead.next();
      let mask: MaskMap;
      if (item.maskPath === null) {
        const n = map.width * map.height;
        if (!noDefect.has(n)) noDefect.set(n, new Uint8Array(n));
        mask = { width: map.width, height: map.height, data: noDefect.get(n)! };
      } else {
        mask = await reader.mask(item.maskPath);
        if (mask.width !== map.width || mask.height !== map.height) {
          throw new Error(
            `${item.mapPath} is ${map.width}×${map.height} but its mask ${item.maskPath} is ${mask.width}×${mask.height}; write maps at the ground-truth resolution`,
          );
        }
      }
      const max = finiteMax(map, item.mapPath);
      sizes.add(`${map.width}×${map.height}`);
      maps.push(map);
      masks.push(mask);
      labels.push(item.maskPath === null ? 0 : 1);
      if (scores) {
        imageScores.push(scores[item.key]);
        usedScoreKeys.add(item.key);
      } else imageScores.push(max);
    }
    const breakdownInput = {
      defectTypes: items.map((i) => i.defect),
      labels,
      scores: imageScores,
      maps,
      masks,
      integrationLimit,
      fprMode,
    };
    // With several defect types the breakdown's AU-PROs run on a second thread meanwhile; with one, its
    // row is the category itself (`whole` below).
    const defectTypes = new Set(items.filter((i) => i.maskPath !== null).map((i) => i.defect));
    const parallel = options.breakdown !== false && defectTypes.size > 1
      ? defectBreakdownInWorker(breakdownInput)
      : null;
    let set;
    try {
      set = evaluateMaps(
        { image: { scores: imageScores, labels }, pixel: { maps, masks } },
        { integrationLimit, fprMode, dialects },
      );
    } catch (error) {
      parallel?.cancel();
      throw new Error(`${category}: ${error instanceof Error ? error.message : error}`);
    }
    // deno-lint-ignore no-unused-vars
    const { integration_limit, fpr_mode, warnings, ...values } = metricSetJson(set, {
      dialects: dialects !== undefined,
    });
    const breakdown = options.breakdown === false
      ? undefined
      : parallel !== null
      ? await parallel.result
      : defectBreakdown({ ...breakdownInput, whole: wholeCategory(set) });
    results[category] = {
      n_images: items.length,
      n_anomalous: labels.reduce((a, b) => a + b, 0),
      ...values,
      map_dtype: set.pixel!.scoreDtype,
      map_sizes: [...sizes],
      warnings: set.warnings,
      ...(breakdown === undefined ? {} : { breakdown }),
    } as CategoryResult;
  }
  if (scores) {
    const prefixes = categories.map((c) => `${c}/`);
    const extra = Object.keys(scores).filter((k) =>
      prefixes.some((p) => k.startsWith(p)) && !usedScoreKeys.has(k)
    );
    if (extra.length > 0) {
      throw new Error(`scores file: ${extra.length} key(s) match no test image: ${nameList(extra)}`);
    }
  }
  const mean = {} as EvaluationReport["mean"];
  for (const key of JSON_METRIC_NAMES) {
    const values = Object.values(results).map((r) => r[key]);
    mean[key] = values.some((v) => v === null)
      ? null
      : (values as number[]).reduce((a, b) => a + b, 0) / values.length;
  }
  return {
    tool: "vtadl-bench evaluate",
    settings: {
      maps: mapsDir,
      gt: gtDir,
      integration_limit: integrationLimit,
      fpr_mode: fprMode,
      image_score: options.scoresLabel ?? "max of anomaly map",
    },
    categories: results,
    mean,
    ...(dialects !== undefined ? { mean_dialect_values: dialectMeans(results) } : {}),
  };
}

/**
 * Reads a scores file: a JSON object mapping `<category>/test/<defect>/<stem>` to a finite number,
 * either at top level or under `"scores"`.
 */
export async function readScoresFile(path: string): Promise<Record<string, number>> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await Deno.readTextFile(path));
  } catch (error) {
    throw new Error(`${path}: cannot read scores (${error instanceof Error ? error.message : error})`);
  }
  const root = parsed as Record<string, unknown> | null;
  const table = root !== null && typeof root === "object" && typeof root.scores === "object"
    ? root.scores
    : root;
  if (table === null || typeof table !== "object" || Array.isArray(table)) {
    throw new Error(`${path}: expected {"<category>/test/<defect>/<stem>": score, ...}`);
  }
  const scores: Record<string, number> = {};
  for (const [key, value] of Object.entries(table as Record<string, unknown>)) {
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new Error(`${path}: score of '${key}' is ${JSON.stringify(value)}; expected a finite number`);
    }
    scores[key.replace(/\\/g, "/").replace(/\.(tiff?|npy|png)$/i, "")] = value;
  }
  return scores;
}

function fmt(v: number | null): string {
  return v === null ? "—" : v.toFixed(4);
}

/** Renders the per-category table. */
export function renderTable(report: EvaluationReport): string {
  const header = ["category", "images", "anom.", "regions", "AUROC", "AP", "PR-AUC", "pix-AUROC", "AU-PRO"];
  const rows = Object.entries(report.categories).map(([name, r]) => [
    name,
    String(r.n_images),
    String(r.n_anomalous),
    String(r.n_regions),
    fmt(r.auroc),
    fmt(r.average_precision),
    fmt(r.pr_auc),
    fmt(r.pixel_auroc),
    fmt(r.au_pro) + (r.au_pro_degenerate ? "!" : ""),
  ]);
  const m = report.mean;
  rows.push([
    "mean",
    "",
    "",
    "",
    fmt(m.auroc),
    fmt(m.average_precision),
    fmt(m.pr_auc),
    fmt(m.pixel_auroc),
    fmt(m.au_pro),
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join("  ");
  const limit = report.settings.integration_limit;
  return [
    line(header),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
    "",
    `Image score: ${report.settings.image_score}. pix-AUROC = pooled pixel ROC-AUC (what VT-ADL's code calls "PRO"). ` +
    `AU-PRO@${limit} = official MVTec AD algorithm, FPR ${report.settings.fpr_mode}` +
    (Object.values(report.categories).some((r) => r.au_pro_degenerate)
      ? "; ! = degenerate (no region)"
      : "") +
    ".",
  ].join("\n");
}

/** The `evaluate` subcommand. */
export const command = defineCommand({
  name: "evaluate",
  summary: "Evaluate anomaly maps (TIFF/.npy) against MVTec-style ground truth",
  usage:
    "--maps DIR --gt DIR [--limit 0.3] [--out FILE] [--scores FILE.json] [--dialects all|NAME,...] [--no-breakdown]",
  description: "Like the official MVTec AD evaluate_experiment.py: --gt is the dataset root " +
    "(<category>/test/<defect>/<stem>.png, <category>/ground_truth/<defect>/<stem>_mask.png; 'good' has no " +
    "masks), --maps holds one map per test image at <category>/test/<defect>/<stem>.tiff (float32 or " +
    "float64 TIFF) or .npy (2-D float32/float64). Image score = max of the map unless --scores gives a JSON " +
    'object {"<category>/test/<defect>/<stem>": score}. Prints a table; --out writes the JSON report.',
  flags: {
    maps: stringFlag({ valueName: "DIR", description: "Anomaly maps root (one folder per category)." }),
    gt: stringFlag({
      valueName: "DIR",
      description: "Dataset root with test images and ground_truth masks.",
    }),
    limit: numberFlag({
      valueName: "L",
      min: Number.MIN_VALUE,
      max: 1,
      default: DEFAULT_INTEGRATION_LIMIT,
      description: "AU-PRO FPR integration limit.",
    }),
    out: stringFlag({ valueName: "FILE", description: "Write the JSON report here (atomically)." }),
    scores: stringFlag({ valueName: "FILE", description: "Image scores JSON instead of max of map." }),
    categories: listFlag({
      valueName: "A,B",
      description: "Only these categories (default: all in --maps).",
    }),
    "fpr-mode": enumFlag(FPR_MODES, {
      valueName: "MODE",
      default: DEFAULT_FPR_MODE,
      description: "FPR rounding: float32 is the official code under NumPy ≥ 2.",
    }),
    json: booleanFlag("Print the JSON report instead of the table."),
    ...DIALECTS_FLAG,
    "no-breakdown": booleanFlag("Skip the per-defect-type image AUROC / AU-PRO breakdown."),
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    if (flags.maps === undefined) throw new UsageError("evaluate: --maps DIR is required");
    if (flags.gt === undefined) throw new UsageError("evaluate: --gt DIR is required");
    setKeyArrayAdvisor(adviseHugePages); // the pixel index of a category takes hundreds of MiB
    const scores = flags.scores !== undefined ? await readScoresFile(flags.scores) : undefined;
    const report = await evaluateTree({
      mapsDir: flags.maps,
      gtDir: flags.gt,
      categories: flags.categories,
      integrationLimit: flags.limit,
      fprMode: flags["fpr-mode"],
      scores,
      scoresLabel: flags.scores !== undefined ? `scores file ${flags.scores}` : undefined,
      dialects: flags.dialects,
      breakdown: !flags["no-breakdown"],
    });
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else console.log([renderTable(report), renderDialectText(report), renderBreakdownText(report)].join(""));
    for (const [name, r] of Object.entries(report.categories)) {
      for (const w of r.warnings) console.error(`warning: ${name}: ${w}`);
    }
    if (flags.out !== undefined) {
      await writeJsonAtomic(flags.out, report);
      console.error(`wrote ${flags.out}`);
    }
    return 0;
  },
});
