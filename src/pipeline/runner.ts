/**
 * The reproduce runner: makes the dataset present (verified), plans every cell (`plan.ts`), runs them in
 * order (`cell.ts`) with an overall ETA, and returns what happened to each.
 *
 * - Rerunning skips every cell whose completed record has the same cell key.
 * - A cell's training continues from a compatible checkpoint unless `checkpoint: "restart"`.
 * - A cell another live process is running (same `--out`) is deferred to the end, then waited for; it
 *   is never trained or recorded twice.
 * - A failing cell writes an `aborted` record and the others still run; an abort signal (Ctrl-C) stops
 *   after the current training step, records the cell `aborted`, and starts no further cell.
 *
 * @module
 */
import { join } from "node:path";
import { DEFAULT_INTEGRATION_LIMIT, type MetricKey, METRICS } from "../core/metrics.ts";
import type { EnsuredDataset } from "../datasets/ensure.ts";
import type { BackendChoice, BackendInfo } from "../train/backend.ts";
import { UsageError } from "../core/errors.ts";
import { collectEnvironment } from "../eval/environment.ts";
import type { RunRecord } from "../runs/record.ts";
import type { FileLockOptions } from "../util/file_lock.ts";
import type { PipelineDeps } from "./deps.ts";
import {
  type CellPlan,
  chooseCategories,
  planCells,
  type PlanRequest,
  resolveRequestConfigs,
} from "./plan.ts";
import { type CellSelection, describeSelection, selectCells } from "./shard.ts";
import {
  type CellOutcome,
  type EfficiencyChoice,
  formatDuration,
  runCellLocked,
  type RunContext,
} from "./cell.ts";
import type { DialectVariantSpec } from "../core/metrics.ts";

/** Options of {@linkcode runReproduce}. */
export interface ReproduceOptions extends PlanRequest {
  /** Subset of categories; default all of the dataset's. */
  categories?: string[];
  backend: BackendChoice;
  /** onnxruntime threads (default: VTADL_THREADS or every CPU). */
  threads?: number;
  dataDir: string;
  /** Run records go to `<outDir>/runs/<run-id>/`, checkpoints to `<outDir>/checkpoints/`. */
  outDir: string;
  /** Preprocessed-image cache folder. Default `<dataDir>/.cache`. */
  cacheDir?: string;
  /** Dataset lock file. Default `datasets.lock.json`. */
  lockPath?: string;
  /** `resume` (default): continue compatible checkpoints; `restart`: train every cell from scratch. */
  checkpoint?: "resume" | "restart";
  mirrors?: string[];
  offline?: boolean;
  acceptLicense?: boolean;
  /** Heat-map panels per category: this many best and worst anomalous test images. Default 2; 0 = none. */
  panels?: number;
  /** Abort (e.g. on SIGINT): the current cell is recorded `aborted` and no further cell starts. */
  signal?: AbortSignal;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Scoring batch size. */
  scoreBatchSize?: number;
  /** Per-cell lock timings (tests). */
  lockOptions?: FileLockOptions;
  /** Which cells of the plan this worker runs (`--shard`, `--cell`, a batch engine's index). Default all. */
  selection?: CellSelection;
  /**
   * Weight files trained elsewhere (the original `.pt` pair, safetensors, or a checkpoint): every cell
   * scores them instead of training. One model, one category and one seed only (weights are per product).
   */
  weightPaths?: string[];
  /** Extra metric dialects per cell (`--dialects`); a completed cell without them is evaluated again. */
  dialects?: readonly DialectVariantSpec[];
  /** Per-defect-type breakdown. Default true. */
  breakdown?: boolean;
  /** Efficiency protocol: `auto` (default: by config), a protocol name, or `off`. */
  efficiency?: EfficiencyChoice;
}

/** A finished cell (busy cells are resolved before the runner returns). */
export interface FinishedCell extends CellOutcome {
  status: "completed" | "skipped" | "aborted";
  record: RunRecord;
}

/** What {@linkcode runReproduce} returns. */
export interface ReproduceResult {
  dataset: EnsuredDataset;
  categories: string[];
  backend: BackendInfo;
  outcomes: FinishedCell[];
  /** Cells in the whole plan (the outcomes cover the selected ones only). */
  plannedCells: number;
  /** True when the signal stopped the run before every cell was done. */
  interrupted: boolean;
}

/**
 * Runs every cell of a reproduction and returns what happened to each.
 *
 * @example
 * ```ts
 * const result = await runReproduce({ dataset: "synthetic", models: ["vtadl"], configName: "smoke",
 *   seeds: [0], backend: "cpu", dataDir: "data", outDir: "reports" }, await loadRealDeps());
 * ```
 */
export async function runReproduce(options: ReproduceOptions, deps: PipelineDeps): Promise<ReproduceResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  if ((options.evalResolution ?? "preprocessed") === "original" && !deps.decodeImage) {
    throw new Error(
      "--eval-resolution original needs an image decoder, which these deps lack; use 'preprocessed'",
    );
  }
  if (options.seeds.length === 0) throw new UsageError("no seeds given: pass --seeds N (≥ 1) or --seed S");
  resolveRequestConfigs(options); // a bad --config or --set stops here, before any download
  let weights = options.weights;
  if (options.weightPaths) {
    if (!deps.loadWeights) throw new Error("these pipeline deps cannot load weight files (no loadWeights)");
    if (options.models.length !== 1 || options.seeds.length !== 1) {
      throw new UsageError(
        "--weights scores one model trained elsewhere: pass one --model and no --seeds (weights are not seeded)",
      );
    }
    const { identifyWeightFiles } = await import("../weights/weight_files.ts");
    weights = await identifyWeightFiles(options.weightPaths);
  }
  const ensured = await deps.ensureDataset(options.dataset, {
    dataDir: options.dataDir,
    lockPath: options.lockPath,
    mirrors: options.mirrors,
    offline: options.offline,
    acceptLicense: options.acceptLicense,
  });
  const available = await deps.listCategories(options.dataset, ensured.root);
  const categories = chooseCategories(options.dataset, available, options.categories);
  if (weights && categories.length !== 1) {
    throw new UsageError(
      `--weights holds one product's model; pass --categories with one of ${available.join(", ")}`,
    );
  }
  const planned = planCells({ ...options, weights }, { contentDigest: ensured.manifestSha256, categories });
  const selection = options.selection ?? { kind: "all" };
  const plans = selectCells(planned, selection);
  if (selection.kind !== "all") {
    log(`reproduce: ${describeSelection(selection, plans.length, planned.length)}`);
  }
  const backend = await deps.initBackend(options.backend, { threads: options.threads });
  const ctx: RunContext = {
    deps,
    ensured,
    backend,
    environment: await collectEnvironment(backend.versions),
    outDir: options.outDir,
    runsDir: join(options.outDir, "runs"),
    cacheDir: options.cacheDir ?? join(options.dataDir, ".cache"),
    checkpoint: options.checkpoint ?? "resume",
    panels: options.panels ?? 2,
    scoreBatchSize: options.scoreBatchSize,
    signal: options.signal,
    log,
    lockOptions: options.lockOptions,
    weightPaths: options.weightPaths,
    splitCache: null,
    dialects: options.dialects,
    breakdown: options.breakdown,
    efficiency: options.efficiency,
  };

  const finished: FinishedCell[] = [];
  const deferred: CellPlan[] = [];
  let interrupted = false;
  const run = async (plan: CellPlan, wait: boolean): Promise<boolean> => {
    if (options.signal?.aborted) return false;
    const outcome = await runCellLocked(ctx, plan, { wait });
    if (outcome.status === "busy") {
      log(
        `[${plan.index}/${plan.total}] ${plan.category} ${plan.model} seed ${plan.seed}: another process is ` +
          "running this cell; coming back to it at the end",
      );
      deferred.push(plan);
      return true;
    }
    finished.push(outcome as FinishedCell);
    if (outcome.status === "aborted" && options.signal?.aborted) return false;
    reportEta(finished, plans.length - finished.length - deferred.length, log);
    return true;
  };
  for (const plan of plans) {
    if (!(await run(plan, false))) {
      interrupted = true;
      break;
    }
  }
  while (!interrupted && deferred.length > 0) {
    if (!(await run(deferred.shift()!, true))) interrupted = true;
  }
  finished.sort((a, b) =>
    plans.findIndex((p) => p.runId === a.runId) - plans.findIndex((p) => p.runId === b.runId)
  );
  return {
    dataset: ensured,
    categories,
    backend,
    outcomes: finished,
    plannedCells: planned.length,
    interrupted,
  };
}

function reportEta(finished: FinishedCell[], remaining: number, log: (line: string) => void): void {
  const last = finished.at(-1);
  const ran = finished.filter((o) => o.status !== "skipped");
  if (!last || last.status === "skipped" || remaining <= 0 || ran.length === 0) return;
  const perCell = ran.reduce((a, o) => a + o.seconds, 0) / ran.length;
  log(
    `${remaining} cell(s) left, ETA ${formatDuration(perCell * remaining)} (at ${
      formatDuration(perCell)
    } per cell)`,
  );
}

/**
 * The end-of-run summary: one line per cell with its status, the headline metrics and its time.
 *
 * @example
 * ```ts
 * console.error(renderCellSummary(result.outcomes));
 * ```
 */
export function renderCellSummary(outcomes: FinishedCell[]): string {
  const keys: MetricKey[] = ["imageAuroc", "pixelAuroc", "auPro", "prAucTrapezoid"];
  const metric = (r: RunRecord, key: MetricKey) => {
    const m = r.metrics.find((e) => e.key === key);
    return m ? m.value.toFixed(4) : "—";
  };
  const rows = [
    ["cell", "status", ...keys.map((k) => METRICS[k].header(DEFAULT_INTEGRATION_LIMIT)), "time"],
    ...outcomes.map((o) => [
      `${o.category} ${o.model} s${o.seed}`,
      o.status === "aborted" ? `aborted (${o.record.error?.stage ?? "?"})` : o.status,
      ...keys.map((k) => metric(o.record, k)),
      o.status === "skipped" ? "—" : formatDuration(o.seconds),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
