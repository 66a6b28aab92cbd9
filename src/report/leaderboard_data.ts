/**
 * The leaderboard as data, built from run records only: one row per dataset × category × method (our run
 * groups, then the published methods), one column per metric variant name (the `definition` a record
 * gives, e.g. `image-AUROC`, `AU-PRO@0.3`; any numeric field a newer record carries outside the base
 * schema gets a column of its own), mean ± std over seeds with the run count, and every run a cell came
 * from (record path and hash). A cell without a record is absent, never guessed.
 *
 * The HTML page (`leaderboard_html.ts`) and `results.json` ({@linkcode leaderboardResults}) are both
 * rendered from this one structure.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { categoryLabel, DATASETS } from "../core/datasets.ts";
import type { RunRecord } from "../runs/record.ts";
import { columnMean, PUBLISHED_TABLES, type PublishedColumn, type VerificationTag } from "./published.ts";
import { datasetsOf, groupRecords, mean, type RecordGroup, sampleStd } from "./tables.ts";

/** A run record as the leaderboard sees it: the record, where it lies and its content hash. */
export interface LeaderboardRun {
  record: RunRecord;
  /** Path of its result.json, relative to the leaderboard folder (links use it). */
  path: string;
  /** SHA-256 of the result.json bytes (hex). */
  sha256: string;
}

/** One run behind a cell. */
export interface RunLink {
  runId: string;
  category: string;
  seed: number;
  path: string;
  sha256: string;
}

/** One metric of one row: our values over seeds, or a published value. */
export interface LeaderboardCell {
  /** Per-run values, in seed order (one value for a published cell). */
  values: number[];
  mean: number;
  /** Sample standard deviation over runs (n − 1); 0 for one run. */
  std: number;
  /** The runs the values came from (empty for a published cell). */
  runs: RunLink[];
  /** Published cells: the definition the source is believed to follow, as the source data states it. */
  publishedMetric?: string;
  /**
   * Mean rows of ours: how many of the dataset's categories the mean covers. `values` then holds the
   * per-category means (category order) and `std` is over the per-seed means when every seed covers every
   * category (else 0).
   */
  coverage?: { categories: number; of: number };
}

/** A training-loss curve of one run. */
export interface LossCurve {
  seed: number;
  runId: string;
  points: { epoch: number; loss: number }[];
}

/** A PRO curve of one run. */
export interface RunProCurve {
  seed: number;
  runId: string;
  integrationLimit: number;
  fpr: number[];
  pro: number[];
}

/** One leaderboard row. */
export interface LeaderboardRow {
  /** Stable id: `dataset/category/methodId`. */
  id: string;
  dataset: string;
  category: string;
  categoryLabel: string;
  /** `ours` (run records) or `published` (from `published.ts`). */
  kind: "ours" | "published";
  /** Method id: `model/config/score/<8 hex of the group key>` for ours, `published:<column id>` for published. */
  methodId: string;
  method: string;
  /** Published rows: citation and verification tag. */
  source?: string;
  tag?: VerificationTag;
  /** Metric column name → cell; a missing column is an empty cell. */
  cells: Record<string, LeaderboardCell>;
  /** Every run of the row (ours), in seed order. */
  runs: RunLink[];
  lossCurves: LossCurve[];
  proCurves: RunProCurve[];
  /** Heat-map panels: the artifact (relative to its run folder) and its path relative to the leaderboard folder. */
  panels: { run: RunLink; artifact: string; path: string }[];
}

/** The whole leaderboard. */
export interface Leaderboard {
  rows: LeaderboardRow[];
  /** Metric column names in display order: known variants first, then others alphabetically. */
  columns: string[];
  /** Number of completed records used. */
  recordCount: number;
  /** Records left out (not completed), as `runId (status)`. */
  skipped: string[];
}

/** Top-level record fields of the base schema; numbers under any other field become generic columns. */
const BASE_RECORD_FIELDS = new Set([
  "schema",
  "runId",
  "cellKey",
  "trainingKey",
  "status",
  "error",
  "startedAt",
  "finishedAt",
  "dataset",
  "model",
  "config",
  "seed",
  "evaluation",
  "environment",
  "backend",
  "training",
  "durations",
  "metrics",
  "curves",
  "artifacts",
]);

/** Leaf names that describe how a number was measured, not a result: never a column. */
const SETTING_KEYS = new Set(["integrationLimit", "protocol", "imageSize", "batchSize"]);

/** A metric-like item of an array field: a finite `value` and a name (`variant`, `definition` or `key`). */
function metricLike(item: unknown): { name: string; value: number } | null {
  if (!item || typeof item !== "object") return null;
  const o = item as Record<string, unknown>;
  const name = [o.variant, o.definition, o.key].find((n) => typeof n === "string" && n !== "");
  return typeof name === "string" && typeof o.value === "number" && Number.isFinite(o.value)
    ? { name, value: o.value }
    : null;
}

/**
 * The numeric values of a record by column name: each metric under its variant name (`definition`, with
 * its dialect when it is not the official one; two keys with one definition, such as pixel AUROC and the
 * VT-ADL code's "PRO", are one number and one column). Then, so that fields added to records later appear
 * without code here, from every field the base schema does not have: items of an array with a `value`
 * and a `variant` / `definition` / `key` name (extra metric variants) by that name, and every other
 * finite number by its path (`efficiency.latencyMs.median`), except measurement settings such as
 * `integrationLimit` or `protocol`.
 */
export function recordValues(record: RunRecord): Map<string, number> {
  const values = new Map<string, number>();
  for (const m of record.metrics) {
    const dialect = (m as { dialect?: unknown }).dialect;
    const name = (m.definition || m.key) +
      (typeof dialect === "string" && dialect !== "official" ? ` (${dialect})` : "");
    if (!values.has(name) && Number.isFinite(m.value)) values.set(name, m.value);
  }
  const walk = (value: unknown, path: string, depth: number) => {
    if (typeof value === "number" && Number.isFinite(value)) values.set(path, value);
    else if (Array.isArray(value) && depth === 0) {
      for (const item of value) {
        const metric = metricLike(item);
        if (metric && !values.has(metric.name)) values.set(metric.name, metric.value);
      }
    } else if (value && typeof value === "object" && !Array.isArray(value) && depth < 3) {
      for (const [k, v] of Object.entries(value)) {
        if (!SETTING_KEYS.has(k)) walk(v, `${path}.${k}`, depth + 1);
      }
    }
  };
  for (const [field, value] of Object.entries(record)) {
    if (!BASE_RECORD_FIELDS.has(field)) walk(value, field, 0);
  }
  return values;
}

/** The category key of a dataset's mean row (the paper tables' "Mean"). */
export const MEAN_CATEGORY = "mean";

/** Column order: the harness's metric definitions first (report order), then any other name sorted. */
const KNOWN_ORDER = ["image-AUROC", "AP", "PR-AUC/trap", "PR-AUC", "pixel-AUROC/all"];

function columnRank(name: string): number {
  const i = KNOWN_ORDER.indexOf(name);
  if (i >= 0) return i;
  return name.startsWith("AU-PRO@") ? KNOWN_ORDER.length : KNOWN_ORDER.length + 1;
}

/** A published column's metric as a column name: `pixel-AUROC/all (believed)` → `pixel-AUROC/all`. */
export function publishedColumnName(metric: string): string {
  return metric.replace(/\s*\(.*\)\s*$/, "").trim();
}

function cellOf(entries: { value: number; run: RunLink }[]): LeaderboardCell {
  const sorted = [...entries].sort((a, b) => a.run.seed - b.run.seed);
  const values = sorted.map((e) => e.value);
  return { values, mean: mean(values), std: sampleStd(values), runs: sorted.map((e) => e.run) };
}

function slug(text: string): string {
  return text.replace(/[^A-Za-z0-9_.-]+/g, "-");
}

/**
 * A run group's method id: `model/config/score/` and 8 hex digits of the group key (config hash and every
 * evaluation setting), so that groups differing only in σ or resolution stay apart.
 */
function methodIdOf(g: RecordGroup): string {
  const key = createHash("sha256").update(g.key).digest("hex").slice(0, 8);
  return `${g.model}/${g.configName}/${g.imageScore}/${key}`;
}

/** A published method's row: one cell, in the column of its metric. */
function publishedRow(
  dataset: string,
  category: string,
  label: string,
  col: PublishedColumn,
  value: number,
  metric: string,
): LeaderboardRow {
  return {
    id: `${dataset}/${category}/published:${slug(col.id)}`,
    dataset,
    category,
    categoryLabel: label,
    kind: "published",
    methodId: `published:${col.id}`,
    method: `${col.label} (published)`,
    source: col.source,
    tag: col.tag,
    cells: {
      [publishedColumnName(col.metric)]: {
        values: [value],
        mean: value,
        std: 0,
        runs: [],
        publishedMetric: metric,
      },
    },
    runs: [],
    lossCurves: [],
    proCurves: [],
    panels: [],
  };
}

/** The mean row of one method of ours from its category rows (see {@linkcode LeaderboardCell.coverage}). */
function oursMeanRow(catRows: LeaderboardRow[], nCategories: number): LeaderboardRow {
  const first = catRows[0];
  const cells: Record<string, LeaderboardCell> = {};
  for (const name of new Set(catRows.flatMap((r) => Object.keys(r.cells)))) {
    const perCategory = catRows.flatMap((r) => r.cells[name] ? [r.cells[name]] : []);
    const values = perCategory.map((c) => c.mean);
    // ± over seeds only when every seed covers every category: then the per-seed means are comparable.
    const seeds = perCategory[0].runs.map((r) => r.seed);
    const comparable = seeds.length > 1 &&
      perCategory.every((c) => c.runs.length === seeds.length && c.runs.every((r, i) => r.seed === seeds[i]));
    const perSeed = comparable ? seeds.map((_, i) => mean(perCategory.map((c) => c.values[i]))) : [];
    cells[name] = {
      values,
      mean: mean(values),
      std: comparable ? sampleStd(perSeed) : 0,
      runs: perCategory.flatMap((c) => c.runs),
      coverage: { categories: perCategory.length, of: nCategories },
    };
  }
  return {
    ...first,
    id: `${first.dataset}/${MEAN_CATEGORY}/${first.methodId}`,
    category: MEAN_CATEGORY,
    categoryLabel: "Mean",
    cells,
    runs: catRows.flatMap((r) => r.runs),
    lossCurves: [],
    proCurves: [],
    panels: [],
  };
}

/**
 * Builds the leaderboard from completed run records and the published tables of their datasets.
 *
 * @example
 * ```ts
 * const board = buildLeaderboard([{ record, path: "../runs/x/result.json", sha256: "ab…" }]);
 * board.rows[0].cells["image-AUROC"].mean;
 * ```
 */
export function buildLeaderboard(runs: LeaderboardRun[]): Leaderboard {
  const byRecord = new Map(runs.map((r) => [r.record, r]));
  const completed = runs.filter((r) => r.record.status === "completed").map((r) => r.record);
  const skipped = runs.filter((r) => r.record.status !== "completed").map((r) =>
    `${r.record.runId} (${r.record.status})`
  );
  const rows: LeaderboardRow[] = [];
  const columns = new Set<string>();
  for (const dataset of datasetsOf(completed)) {
    const records = completed.filter((r) => r.dataset.name === dataset);
    const spec = DATASETS[dataset];
    const ourCategories = [...new Set(records.map((r) => r.dataset.category))];
    const categories = [
      ...spec.categories.filter((c) => ourCategories.includes(c)),
      ...ourCategories.filter((c) => !spec.categories.includes(c)).sort(),
    ];
    const groups = groupRecords(records);
    const published = PUBLISHED_TABLES[dataset];
    for (const category of categories) {
      for (const g of groups) {
        const recs = g.records.filter((r) => r.dataset.category === category).sort((a, b) => a.seed - b.seed);
        if (recs.length === 0) continue;
        const links = recs.map((r): RunLink => {
          const run = byRecord.get(r)!;
          return { runId: r.runId, category, seed: r.seed, path: run.path, sha256: run.sha256 };
        });
        const entries = new Map<string, { value: number; run: RunLink }[]>();
        recs.forEach((r, i) => {
          for (const [name, value] of recordValues(r)) {
            entries.set(name, [...(entries.get(name) ?? []), { value, run: links[i] }]);
          }
        });
        const runDirOf = (link: RunLink) => link.path.replace(/result\.json$/, "");
        const methodId = methodIdOf(g);
        rows.push({
          id: `${dataset}/${category}/${methodId}`,
          dataset,
          category,
          categoryLabel: categoryLabel(dataset, category),
          kind: "ours",
          methodId,
          method: g.label,
          cells: Object.fromEntries([...entries].map(([name, e]) => [name, cellOf(e)])),
          runs: links,
          lossCurves: recs.flatMap((r) =>
            r.training && r.training.epochs.length > 0
              ? [{
                seed: r.seed,
                runId: r.runId,
                points: r.training.epochs.map((e) => ({ epoch: e.epoch, loss: e.loss })),
              }]
              : []
          ),
          proCurves: recs.flatMap((r) =>
            r.curves?.pro ? [{ seed: r.seed, runId: r.runId, ...r.curves.pro }] : []
          ),
          panels: recs.flatMap((r, i) =>
            r.artifacts.filter((a) => a.endsWith(".png")).map((a) => ({
              run: links[i],
              artifact: a,
              path: runDirOf(links[i]) + a.split("/").map(encodeURIComponent).join("/"),
            }))
          ),
        });
      }
      for (const col of published?.columns ?? []) {
        const value = col.values[category];
        if (value === null || value === undefined) continue;
        rows.push(publishedRow(dataset, category, categoryLabel(dataset, category), col, value, col.metric));
      }
    }
    // Mean rows, as the paper tables' "Mean": ours over the categories each method covers, published over
    // the table's rows (or the printed mean where only that is published, as for Fashion-MNIST).
    const nCategories = new Set([...spec.categories, ...ourCategories]).size;
    for (const g of groups) {
      const catRows = rows.filter((r) =>
        r.dataset === dataset && r.kind === "ours" && r.methodId === methodIdOf(g)
      );
      if (catRows.length > 0) rows.push(oursMeanRow(catRows, nCategories));
    }
    for (const col of published?.columns ?? []) {
      const computed = columnMean(published!, col);
      const value = computed ?? col.printedMean;
      if (value === null) continue;
      const metric = computed === null ? `${col.metric}; printed mean only` : col.metric;
      rows.push(publishedRow(dataset, MEAN_CATEGORY, "Mean", col, value, metric));
    }
    for (const row of rows) for (const name of Object.keys(row.cells)) columns.add(name);
  }
  const ordered = [...columns].sort((a, b) => columnRank(a) - columnRank(b) || a.localeCompare(b));
  return { rows, columns: ordered, recordCount: completed.length, skipped };
}

/** Schema tag of `results.json`; bump when a field changes meaning. */
export const LEADERBOARD_RESULTS_SCHEMA = "vtadl-bench/leaderboard-results@1";

/** One entry of `results.json`: one (dataset, category, method, metric). */
export interface LeaderboardResultEntry {
  dataset: string;
  category: string;
  method: string;
  methodId: string;
  kind: "ours" | "published";
  /** The metric's variant name (the column name). */
  metric: string;
  mean: number;
  std: number;
  /** Number of runs behind the mean; 1 for a published value. */
  n: number;
  /** Per run in seed order; in a mean row (category `mean`) per category, in category order. */
  values: number[];
  /** Mean rows of ours: categories covered of the dataset's; null elsewhere. */
  coverage: { categories: number; of: number } | null;
  /** Ours: the run records (path relative to results.json, SHA-256 of the file). */
  runs: RunLink[];
  /** Published: the citation, its verification tag and the metric as the source data states it. */
  source: { citation: string; tag: VerificationTag; metric: string } | null;
}

/** The content of `results.json`. */
export interface LeaderboardResults {
  schema: typeof LEADERBOARD_RESULTS_SCHEMA;
  generatedAt: string;
  recordCount: number;
  entries: LeaderboardResultEntry[];
}

/**
 * The leaderboard as `results.json`: one entry per (dataset, category, method, metric), the format
 * `docs/leaderboard.md` documents.
 *
 * @example
 * ```ts
 * const json = leaderboardResults(buildLeaderboard(runs), new Date());
 * ```
 */
export function leaderboardResults(board: Leaderboard, generatedAt: Date): LeaderboardResults {
  const entries: LeaderboardResultEntry[] = [];
  for (const row of board.rows) {
    for (const metric of board.columns) {
      const cell = row.cells[metric];
      if (!cell) continue;
      entries.push({
        dataset: row.dataset,
        category: row.category,
        method: row.method,
        methodId: row.methodId,
        kind: row.kind,
        metric,
        mean: cell.mean,
        std: cell.std,
        n: row.kind === "ours" ? cell.runs.length : 1,
        values: cell.values,
        coverage: cell.coverage ?? null,
        runs: cell.runs,
        source: row.kind === "published"
          ? {
            citation: row.source ?? "",
            tag: row.tag ?? "unverified",
            metric: cell.publishedMetric ?? metric,
          }
          : null,
      });
    }
  }
  return {
    schema: LEADERBOARD_RESULTS_SCHEMA,
    generatedAt: generatedAt.toISOString(),
    recordCount: board.recordCount,
    entries,
  };
}
