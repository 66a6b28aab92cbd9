/**
 * The reproduce pipeline: for each category × model × seed ("cell"), train, score the test set, build
 * anomaly maps, compute metrics and write a run record. It reads like the paper's protocol from top to
 * bottom ({@linkcode runReproduce} → `runCell`), and calls the other parts only through the injected
 * {@linkcode PipelineDeps}.
 *
 * Re-running skips every cell whose completed record has the same cell key (config hash, dataset digest,
 * seed, evaluation settings). `resume` passes `resume: true` to the trainer so an interrupted cell
 * continues from its last checkpoint. A failing cell writes an `aborted` record and the others still run;
 * an abort signal (Ctrl-C) stops after recording the current cell as `aborted`.
 *
 * @module
 */
import { join } from "node:path";
import type { CategorySplit } from "../datasets/types.ts";
import { canonicalJsonSha256 } from "../util/canonical_json.ts";
import {
  type BackendChoice,
  type BackendInfo,
  configField,
  type DatasetName,
  type EnsuredDataset,
  type EpochReport,
  type ModelConfig,
  type ModelName,
  type PipelineDeps,
  type PreprocessOptions,
  type TrainedModel,
} from "./deps.ts";
import { collectEnvironment, type EnvironmentInfo } from "./environment.ts";
import { evaluateCategory } from "./evaluate.ts";
import { anomalyMapKind, defaultImageScore, type ImageScoreVariant } from "./image_score.ts";
import { loadOriginalMasks } from "./original_resolution.ts";
import { writeHeatmapPanels } from "./panels.ts";
import { type SplitLimits, subsampleSplit } from "./subsample.ts";
import { type EvaluationSettings, readRunRecord, type RunRecord, RunRecorder } from "./run_record.ts";

/** Options of {@linkcode runReproduce}. */
export interface ReproduceOptions {
  dataset: DatasetName;
  models: ModelName[];
  /** Named config (`smoke`, `quick`, `mnist`, `code`, `paper`). */
  configName: string;
  /** `key=value` overrides passed to `resolveConfig`. */
  configOverrides?: Record<string, string>;
  seeds: number[];
  /** Subset of categories; default all of the dataset's. */
  categories?: string[];
  backend: BackendChoice;
  /** onnxruntime threads (default: VTADL_THREADS or all CPUs). */
  threads?: number;
  dataDir: string;
  /** Run records go to `<outDir>/runs/<run-id>/`, checkpoints to `<outDir>/checkpoints/`. */
  outDir: string;
  /** Preprocessed-image cache folder. Default `<dataDir>/.cache`. */
  cacheDir?: string;
  resume?: boolean;
  mirrors?: string[];
  offline?: boolean;
  acceptLicense?: boolean;
  /** Pixel metrics at the preprocessed size (default) or against the original masks at their own size. */
  evalResolution?: "preprocessed" | "original";
  /** VT-ADL image score; default `code`/`paper` by config variant, `recon` on mask-less datasets. */
  imageScore?: ImageScoreVariant;
  /** VT-ADL heat-map Gaussian σ; default the config's `heatmapSigma`, else 4 (`code`) / 0 (`paper`). */
  heatmapSigma?: number;
  /** Heat-map panels per category: this many best and worst anomalous test images. Default 2; 0 = none. */
  panels?: number;
  /** Abort (e.g. on SIGINT): the current cell is recorded `aborted` and no further cell starts. */
  signal?: AbortSignal;
  /** Progress lines (default: stderr). */
  log?: (line: string) => void;
  /** Scoring batch size. */
  scoreBatchSize?: number;
  /** Use at most this many training / test images per category (evenly spaced; recorded; for quick looks). */
  limits?: SplitLimits;
}

/** What happened to one cell. */
export interface CellOutcome {
  runId: string;
  category: string;
  model: ModelName;
  seed: number;
  status: "completed" | "skipped" | "aborted";
  /** The record on disk (also for skipped cells). */
  record: RunRecord;
  seconds: number;
}

/** What {@linkcode runReproduce} returns. */
export interface ReproduceResult {
  dataset: EnsuredDataset;
  categories: string[];
  backend: BackendInfo;
  outcomes: CellOutcome[];
  /** True when the signal stopped the run before every cell was done. */
  interrupted: boolean;
}

/** A folder-safe run id: dataset, category, model, config, seed and the cell key's first 8 hex digits. */
export function runIdOf(
  dataset: string,
  category: string,
  model: string,
  configName: string,
  seed: number,
  cellKey: string,
): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9.-]+/g, "-");
  return [safe(dataset), safe(category), safe(model), safe(configName), `seed${seed}`, cellKey.slice(0, 8)]
    .join("_");
}

function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
}

/**
 * Preprocessing a config asks for: resize then centre crop (550 → 512 for `code`), masks as the config's
 * `maskResize`; BTAD with `btadResize: direct512` is resized straight to the crop size (paper Sec. V.A).
 */
export function preprocessOf(dataset: string, config: ModelConfig, cacheDir: string): PreprocessOptions {
  const direct = dataset === "btad" && config.btadResize === "direct512";
  return {
    resize: direct ? config.imageSize : config.resizeTo,
    crop: config.imageSize,
    maskResize: config.maskResize,
    cacheDir,
  };
}

/** Everything fixed for one cell before it runs. */
interface CellPlan {
  index: number;
  total: number;
  category: string;
  model: ModelName;
  seed: number;
  config: ModelConfig;
  configHash: string;
  preprocess: PreprocessOptions;
  evaluation: EvaluationSettings;
  cellKey: string;
  runId: string;
}

/** State shared by all cells of one reproduce call. */
interface RunContext {
  options: ReproduceOptions;
  deps: PipelineDeps;
  ensured: EnsuredDataset;
  backend: BackendInfo;
  environment: EnvironmentInfo;
  runsDir: string;
  log: (line: string) => void;
  /** The last loaded split, reused across models/seeds with the same preprocessing. */
  splitCache: { key: string; split: CategorySplit } | null;
}

/**
 * Runs every cell of a reproduction and returns what happened to each.
 *
 * @example
 * ```ts
 * const result = await runReproduce({ dataset: "synthetic", models: ["vtadl"], configName: "smoke",
 *   seeds: [0], backend: "cpu", dataDir: "data", outDir: "reports" }, realDeps());
 * ```
 */
export async function runReproduce(options: ReproduceOptions, deps: PipelineDeps): Promise<ReproduceResult> {
  const log = options.log ?? ((line: string) => console.error(line));
  if ((options.evalResolution ?? "preprocessed") === "original" && !deps.decodeImage) {
    throw new Error(
      "--eval-resolution original needs an image decoder, which these deps lack; use 'preprocessed'",
    );
  }
  if (options.seeds.length === 0) throw new Error("no seeds given: pass --seeds N (≥ 1) or --seed S");
  const ensured = await deps.ensureDataset(options.dataset, {
    dataDir: options.dataDir,
    mirrors: options.mirrors,
    offline: options.offline,
    acceptLicense: options.acceptLicense,
  });
  const available = await deps.listCategories(options.dataset, ensured.root);
  const categories = options.categories ?? available;
  const unknown = categories.filter((c) => !available.includes(c));
  if (unknown.length > 0) {
    throw new Error(
      `unknown ${options.dataset} categor${unknown.length > 1 ? "ies" : "y"} ${
        unknown.join(", ")
      }: choose from ${available.join(", ")}`,
    );
  }
  const backend = await deps.initBackend(options.backend, { threads: options.threads });
  const environment = await collectEnvironment(backend.versions);
  const ctx: RunContext = {
    options,
    deps,
    ensured,
    backend,
    environment,
    runsDir: join(options.outDir, "runs"),
    log,
    splitCache: null,
  };

  const plans = planCells(ctx, categories);
  const outcomes: CellOutcome[] = [];
  let interrupted = false;
  for (const plan of plans) {
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    const outcome = await runCell(ctx, plan);
    outcomes.push(outcome);
    if (outcome.status === "aborted" && options.signal?.aborted) {
      interrupted = true;
      break;
    }
    const ran = outcomes.filter((o) => o.status !== "skipped");
    const remaining = plans.length - plan.index;
    if (outcome.status !== "skipped" && remaining > 0) {
      const perCell = ran.reduce((a, o) => a + o.seconds, 0) / ran.length;
      log(
        `${remaining} cell(s) left, ETA ${formatDuration(perCell * remaining)} (at ${
          formatDuration(perCell)
        } per cell)`,
      );
    }
  }
  return { dataset: ensured, categories, backend, outcomes, interrupted };
}

/** Resolves config, evaluation settings, cell key and run id for every category × model × seed. */
function planCells(ctx: RunContext, categories: string[]): CellPlan[] {
  const { options, deps, ensured } = ctx;
  const cacheDir = options.cacheDir ?? join(options.dataDir, ".cache");
  const plans: Omit<CellPlan, "index" | "total">[] = [];
  for (const category of categories) {
    for (const model of options.models) {
      const config = deps.resolveConfig(model, options.configName, options.configOverrides);
      const configHash = deps.configHash(config);
      const variant = config.variant;
      const imageScore = model === "vtadl" && options.imageScore
        ? options.imageScore
        : defaultImageScore(model, {
          imageScore: configField<string>(config, "imageScore"),
          imageScoreSsim: configField<string>(config, "imageScoreSsim"),
          variant: config.variant,
        });
      const heatmapSigma = options.heatmapSigma ?? configField<number>(config, "heatmapSigma") ??
        (variant === "paper" ? 0 : 4);
      const evaluation: EvaluationSettings = {
        imageScore,
        anomalyMap: anomalyMapKind(model),
        heatmapSigma: model === "vtadl" ? heatmapSigma : 0,
        resolution: options.evalResolution ?? "preprocessed",
        integrationLimit: 0.3,
      };
      for (const seed of options.seeds) {
        const cellKey = canonicalJsonSha256({
          dataset: options.dataset,
          lockDigest: ensured.lockDigest,
          category,
          model,
          configHash,
          seed,
          evaluation,
          ...(options.limits ? { limits: options.limits } : {}),
        });
        plans.push({
          category,
          model,
          seed,
          config,
          configHash,
          preprocess: preprocessOf(options.dataset, config, cacheDir),
          evaluation,
          cellKey,
          runId: runIdOf(options.dataset, category, model, config.name, seed, cellKey),
        });
      }
    }
  }
  return plans.map((p, i) => ({ ...p, index: i + 1, total: plans.length }));
}

async function loadSplit(ctx: RunContext, plan: CellPlan): Promise<CategorySplit> {
  const key = JSON.stringify([plan.category, plan.preprocess]);
  if (ctx.splitCache?.key === key) return ctx.splitCache.split;
  ctx.splitCache = null; // free the previous split before loading the next
  const loaded = await ctx.deps.loadCategorySplit(
    ctx.options.dataset,
    ctx.ensured.root,
    plan.category,
    plan.preprocess,
  );
  const split = ctx.options.limits ? subsampleSplit(loaded, ctx.options.limits) : loaded;
  if (split.train.length === 0 || split.test.length === 0) {
    throw new Error(
      `${ctx.options.dataset}/${plan.category}: ${split.train.length} training and ${split.test.length} test images; both must be non-empty`,
    );
  }
  ctx.splitCache = { key, split };
  return split;
}

function initialRecord(ctx: RunContext, plan: CellPlan): RunRecord {
  return {
    schema: "vtadl-bench/run-record@1",
    runId: plan.runId,
    cellKey: plan.cellKey,
    status: "running",
    error: null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    dataset: {
      name: ctx.options.dataset,
      category: plan.category,
      lockDigest: ctx.ensured.lockDigest,
      licence: ctx.ensured.licence,
      archiveDigests: ctx.ensured.archiveDigests,
      preprocess: {
        resize: plan.preprocess.resize,
        crop: plan.preprocess.crop,
        maskResize: plan.preprocess.maskResize ?? null,
      },
      counts: null,
      subsample: ctx.options.limits ?? null,
    },
    model: plan.model,
    config: {
      name: plan.config.name,
      hash: plan.configHash,
      variant: plan.config.variant,
      resolved: plan.config,
    },
    seed: plan.seed,
    evaluation: plan.evaluation,
    environment: ctx.environment,
    backend: ctx.backend,
    training: null,
    durations: { loadSeconds: 0, trainSeconds: 0, scoreSeconds: 0, metricsSeconds: 0, totalSeconds: 0 },
    metrics: [],
    artifacts: [],
  };
}

/** Runs (or skips) one cell and always leaves a record on disk. */
async function runCell(ctx: RunContext, plan: CellPlan): Promise<CellOutcome> {
  const { options, deps, log } = ctx;
  const label = `[${plan.index}/${plan.total}] ${plan.category} ${plan.model} seed ${plan.seed}`;
  const runDir = join(ctx.runsDir, plan.runId);
  const base = { runId: plan.runId, category: plan.category, model: plan.model, seed: plan.seed };

  const existing = await readRunRecord(join(runDir, "result.json")).catch(() => null);
  if (existing?.status === "completed" && existing.cellKey === plan.cellKey) {
    log(`${label}: skipped, completed record ${plan.runId} has the same config hash`);
    return { ...base, status: "skipped", record: existing, seconds: 0 };
  }

  const t0 = performance.now();
  const recorder = new RunRecorder(runDir, initialRecord(ctx, plan));
  const durations = { loadSeconds: 0, trainSeconds: 0, scoreSeconds: 0, metricsSeconds: 0, totalSeconds: 0 };
  const epochs: EpochReport[] = [];
  let stage = "load";
  let trained: TrainedModel | null = null;
  await recorder.save();
  await recorder.event("INTERVAL_START", "run_start", null, {
    run_id: plan.runId,
    dataset: options.dataset,
    category: plan.category,
    model: plan.model,
    config: plan.config.name,
    config_hash: plan.configHash,
  });
  await recorder.event("POINT_IN_TIME", "seed", plan.seed);
  try {
    let t = performance.now();
    const split = await loadSplit(ctx, plan);
    durations.loadSeconds = (performance.now() - t) / 1000;
    const testAnomalous = split.test.filter((s) => s.label === 1).length;
    await recorder.save({
      dataset: {
        ...recorder.record.dataset,
        counts: { train: split.train.length, test: split.test.length, testAnomalous },
      },
    });
    await recorder.event("POINT_IN_TIME", "train_samples", split.train.length);
    await recorder.event("POINT_IN_TIME", "eval_samples", split.test.length);

    stage = "train";
    log(
      `${label}: training ${plan.config.name} on ${split.train.length} images, ${plan.config.epochs} epochs`,
    );
    t = performance.now();
    let lastEpochStop = Date.now();
    const result = await deps.trainModel({
      model: plan.model,
      config: plan.config,
      seed: plan.seed,
      train: split.train,
      checkpointDir: join(
        options.outDir,
        "checkpoints",
        runIdOf(options.dataset, plan.category, plan.model, plan.config.name, plan.seed, plan.configHash),
      ),
      resume: options.resume ?? false,
      signal: options.signal,
      onEpoch: (r) => {
        epochs.push(r);
        const end = Date.now();
        // The trainer reports an epoch when it ends; its start is end − seconds, never before the last stop.
        const start = Math.max(end - Math.round(r.seconds * 1000), lastEpochStop);
        lastEpochStop = end;
        void recorder.event("INTERVAL_START", "epoch_start", null, { epoch_num: r.epoch }, start);
        void recorder.event("INTERVAL_END", "epoch_stop", null, {
          epoch_num: r.epoch,
          loss: r.loss,
          terms: r.terms,
        }, end);
        const eta = (plan.config.epochs - r.epoch) * r.seconds;
        log(
          `${label}: epoch ${r.epoch}/${plan.config.epochs}  loss ${r.loss.toPrecision(5)}  ` +
            `${r.imagesPerSecond.toFixed(1)} img/s  ETA ${formatDuration(eta)}`,
        );
      },
    });
    trained = result.model;
    durations.trainSeconds = (performance.now() - t) / 1000;
    const trainingEpochs = result.epochs.length > 0 ? result.epochs : epochs;
    await recorder.save({
      training: { epochs: trainingEpochs, bestEpoch: result.bestEpoch, resumed: options.resume ?? false },
    });

    stage = "score";
    t = performance.now();
    const raws = await deps.scoreImages(trained, split.test, { batchSize: options.scoreBatchSize });
    durations.scoreSeconds = (performance.now() - t) / 1000;

    stage = "metrics";
    t = performance.now();
    const hasMasks = split.test.some((s) => s.mask !== null);
    const original = plan.evaluation.resolution === "original" && hasMasks
      ? {
        masks: await loadOriginalMasks(options.dataset, ctx.ensured.root, split.test, deps.decodeImage!),
        geometry: { resize: plan.preprocess.resize, crop: plan.preprocess.crop },
      }
      : undefined;
    const evaluation = evaluateCategory(split.test, raws, { ...plan.evaluation, original }, deps.metrics);
    durations.metricsSeconds = (performance.now() - t) / 1000;
    for (const m of evaluation.metrics) {
      await recorder.event("POINT_IN_TIME", "eval_accuracy", m.value, {
        metric: m.key,
        variant: m.variant,
        scored_by: m.scoredBy,
      });
    }

    stage = "panels";
    const artifacts = evaluation.maps && evaluation.masks && (options.panels ?? 2) > 0
      ? await writeHeatmapPanels(runDir, split.test, evaluation.scores, evaluation.maps, options.panels ?? 2)
      : [];

    durations.totalSeconds = (performance.now() - t0) / 1000;
    await recorder.save({
      status: "completed",
      finishedAt: new Date().toISOString(),
      durations,
      metrics: evaluation.metrics,
      artifacts,
    });
    await recorder.event("INTERVAL_END", "run_stop", null, { status: "success" });
    await recorder.flush();
    const summary = evaluation.metrics.map((m) => `${m.key} ${m.value.toFixed(4)}`).join("  ");
    log(`${label}: done in ${formatDuration(durations.totalSeconds)}  ${summary}`);
    return { ...base, status: "completed", record: recorder.record, seconds: durations.totalSeconds };
  } catch (error) {
    const interrupted = options.signal?.aborted === true;
    const message = interrupted
      ? `interrupted during ${stage}; rerun with --resume to continue from the last checkpoint`
      : error instanceof Error
      ? error.message
      : String(error);
    durations.totalSeconds = (performance.now() - t0) / 1000;
    const trainingSoFar = recorder.record.training ??
      (epochs.length > 0 ? { epochs, bestEpoch: null, resumed: options.resume ?? false } : null);
    await recorder.save({
      status: "aborted",
      error: { stage, message },
      finishedAt: new Date().toISOString(),
      durations,
      training: trainingSoFar,
    });
    await recorder.event("INTERVAL_END", "run_stop", null, { status: "aborted", stage, error: message });
    await recorder.flush();
    log(`${label}: ABORTED during ${stage}: ${message}`);
    return { ...base, status: "aborted", record: recorder.record, seconds: durations.totalSeconds };
  } finally {
    trained?.dispose();
  }
}

/**
 * The end-of-run summary: one line per cell with its status, the headline metrics and its time.
 *
 * @example
 * ```ts
 * console.error(renderCellSummary(result.outcomes));
 * ```
 */
export function renderCellSummary(outcomes: CellOutcome[]): string {
  const metric = (r: RunRecord, key: string) => {
    const m = r.metrics.find((e) => e.key === key);
    return m ? m.value.toFixed(4) : "—";
  };
  const rows = [
    ["cell", "status", "image AUROC", "pixel AUROC", "AU-PRO@0.3", "PR-AUC/trap", "time"],
    ...outcomes.map((o) => [
      `${o.category} ${o.model} s${o.seed}`,
      o.status === "aborted" ? `aborted (${o.record.error?.stage ?? "?"})` : o.status,
      metric(o.record, "imageAuroc"),
      metric(o.record, "pixelAuroc"),
      metric(o.record, "auPro"),
      metric(o.record, "prAucTrapezoid"),
      o.status === "skipped" ? "—" : formatDuration(o.seconds),
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
}
