/**
 * One cell of a reproduction, top to bottom as the paper's protocol: load the split, train (continuing a
 * compatible checkpoint), score the test set, build anomaly maps, compute the metrics, write panels, and
 * leave a run record whatever happens.
 *
 * A cell runs only while its lock (`<runs>/<run-id>/cell.lock`, the same mechanism as the download lock)
 * is held, so two processes writing into one `--out` never train or record the same cell twice: the
 * second one defers the cell, and finds it completed when the first is done.
 *
 * @module
 */
import { join } from "node:path";
import type { CategorySplit } from "../datasets/types.ts";
import type { EnsuredDataset } from "../datasets/ensure.ts";
import type { BackendInfo } from "../train/backend.ts";
import type { EpochReport, TrainedModel } from "../train/trainer.ts";
import { describeResume } from "../train/identity.ts";
import type { EnvironmentInfo } from "../eval/environment.ts";
import { evaluateCategory } from "../eval/evaluate.ts";
import {
  EFFICIENCY_PROTOCOLS,
  efficiencyOf,
  efficiencyProtocolFor,
  type EfficiencyProtocolName,
  peakMemoryBytes,
  resetPeakMemory,
  timeForwards,
} from "../eval/efficiency.ts";
import type { DialectVariantSpec } from "../core/metrics.ts";
import { loadOriginalMasks } from "../eval/original_resolution.ts";
import { writeHeatmapPanels } from "../eval/panels.ts";
import { outputsDigest } from "../eval/outputs_digest.ts";
import { subsampleSplit } from "../eval/subsample.ts";
import { RUN_RECORD_SCHEMA, type RunRecord } from "../runs/record.ts";
import { readRunRecord, RunRecorder } from "../runs/store.ts";
import { type FileLockOptions, type HeldLock, tryFileLock } from "../util/file_lock.ts";
import type { PipelineDeps } from "./deps.ts";
import { type CellPlan, checkpointDirOf } from "./plan.ts";

/** State shared by all cells of one reproduce call. */
export interface RunContext {
  deps: PipelineDeps;
  ensured: EnsuredDataset;
  backend: BackendInfo;
  environment: EnvironmentInfo;
  outDir: string;
  runsDir: string;
  /** Preprocessed-image cache folder. */
  cacheDir: string;
  /** `resume` (default): continue a compatible checkpoint; `restart`: train from scratch. */
  checkpoint: "resume" | "restart";
  panels: number;
  scoreBatchSize?: number;
  signal?: AbortSignal;
  log: (line: string) => void;
  /** Options of the per-cell lock (tests shorten its timings). */
  lockOptions?: FileLockOptions;
  /** Weight files the cells score instead of training (`reproduce --weights`). */
  weightPaths?: string[];
  /** The last loaded split, reused across models/seeds with the same preprocessing. */
  splitCache: { key: string; split: CategorySplit } | null;
  /** Extra metric dialects (`--dialects`); default none. */
  dialects?: readonly DialectVariantSpec[];
  /** Per-defect-type breakdown. Default true. */
  breakdown?: boolean;
  /** Efficiency protocol. Default `auto`: `smoke` for the smoke config, `standard` otherwise. */
  efficiency?: EfficiencyChoice;
}

/** How a cell measures efficiency: by config (`auto`), with a named protocol, or not at all. */
export type EfficiencyChoice = "auto" | EfficiencyProtocolName | "off";

/** Whether a completed record already holds every dialect variant asked for now. */
function coversDialects(record: RunRecord, ctx: RunContext): boolean {
  const asked = ctx.dialects ?? [];
  const had = new Set(record.dialectsRequested ?? []);
  return asked.every((v) => had.has(v.key));
}

/** What happened to one cell. */
export interface CellOutcome {
  runId: string;
  category: string;
  model: CellPlan["model"];
  seed: number;
  /** `busy`: another live process holds the cell's lock (the runner comes back to it). */
  status: "completed" | "skipped" | "aborted" | "busy";
  /** The record on disk (null only for busy cells). */
  record: RunRecord | null;
  seconds: number;
}

/** Path of a cell's lock. */
export function cellLockPath(runsDir: string, runId: string): string {
  return join(runsDir, runId, "cell.lock");
}

/** A completed record of this cell, if there is one. */
async function completedRecord(ctx: RunContext, plan: CellPlan): Promise<RunRecord | null> {
  const existing = await readRunRecord(join(ctx.runsDir, plan.runId, "result.json")).catch(() => null);
  return existing?.status === "completed" && existing.cellKey === plan.cellKey &&
      coversDialects(existing, ctx)
    ? existing
    : null;
}

/**
 * Runs (or skips) one cell under its lock. With `wait: false` a cell another live process holds is
 * returned `busy` at once; with `wait: true` it waits for that process and then finds the cell done.
 */
export async function runCellLocked(
  ctx: RunContext,
  plan: CellPlan,
  { wait }: { wait: boolean },
): Promise<CellOutcome> {
  const base = { runId: plan.runId, category: plan.category, model: plan.model, seed: plan.seed };
  const label = labelOf(plan);
  const done = await completedRecord(ctx, plan);
  if (done) {
    ctx.log(`${label}: skipped, completed record ${plan.runId} has the same cell key`);
    return { ...base, status: "skipped", record: done, seconds: 0 };
  }
  const lockPath = cellLockPath(ctx.runsDir, plan.runId);
  let lock: HeldLock | null = await tryFileLock(lockPath, ctx.lockOptions);
  if (!lock && !wait) return { ...base, status: "busy", record: null, seconds: 0 };
  if (!lock) {
    ctx.log(`${label}: waiting for another process that is running this cell`);
    const { acquireFileLock } = await import("../util/file_lock.ts");
    lock = await acquireFileLock(lockPath, ctx.lockOptions);
  }
  try {
    const finished = await completedRecord(ctx, plan);
    if (finished) {
      ctx.log(`${label}: skipped, completed by another process`);
      return { ...base, status: "skipped", record: finished, seconds: 0 };
    }
    return await runCell(ctx, plan);
  } finally {
    await lock.release();
  }
}

function labelOf(plan: CellPlan): string {
  return `[${plan.index}/${plan.total}] ${plan.category} ${plan.model} seed ${plan.seed}`;
}

/** `m:ss` or `XhYYm`. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, "0")}m` : `${m}:${String(r).padStart(2, "0")}`;
}

/**
 * Loads a planned cell's split: the category preprocessed as the plan says, subsampled to its limits.
 * `reproduce` and `train` both load through here, so they always train on the same images.
 */
export async function loadPlannedSplit(
  deps: Pick<PipelineDeps, "loadCategorySplit">,
  root: string,
  plan: CellPlan,
  cacheDir: string,
): Promise<CategorySplit> {
  const loaded = await deps.loadCategorySplit(plan.dataset, root, plan.category, {
    ...plan.preprocess,
    cacheDir,
  });
  const split = plan.subset ? subsampleSplit(loaded, plan.subset) : loaded;
  if (split.train.length === 0 || split.test.length === 0) {
    throw new Error(
      `${plan.dataset}/${plan.category}: ${split.train.length} training and ${split.test.length} test images; both must be non-empty`,
    );
  }
  return split;
}

async function loadSplit(ctx: RunContext, plan: CellPlan): Promise<CategorySplit> {
  const key = JSON.stringify([plan.category, plan.preprocess, plan.subset]);
  if (ctx.splitCache?.key === key) return ctx.splitCache.split;
  ctx.splitCache = null; // free the previous split before loading the next
  const split = await loadPlannedSplit(ctx.deps, ctx.ensured.root, plan, ctx.cacheDir);
  ctx.splitCache = { key, split };
  return split;
}

function initialRecord(ctx: RunContext, plan: CellPlan): RunRecord {
  return {
    schema: RUN_RECORD_SCHEMA,
    runId: plan.runId,
    cellKey: plan.cellKey,
    trainingKey: plan.trainingKey,
    status: "running",
    error: null,
    startedAt: new Date().toISOString(),
    finishedAt: null,
    dataset: {
      name: plan.dataset,
      category: plan.category,
      lockDigest: ctx.ensured.lockDigest,
      contentDigest: ctx.ensured.manifestSha256,
      licence: ctx.ensured.licence,
      archiveDigests: ctx.ensured.archiveDigests,
      preprocess: {
        resize: plan.preprocess.resize,
        crop: plan.preprocess.crop,
        maskResize: plan.preprocess.maskResize,
      },
      counts: null,
      subsample: plan.subset,
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
    ...(plan.weights ? { weights: plan.weights } : {}),
    durations: { loadSeconds: 0, trainSeconds: 0, scoreSeconds: 0, metricsSeconds: 0, totalSeconds: 0 },
    metrics: [],
    artifacts: [],
  };
}

/** Runs one cell (its lock held) and always leaves a record on disk. */
async function runCell(ctx: RunContext, plan: CellPlan): Promise<CellOutcome> {
  const { deps, log } = ctx;
  const label = labelOf(plan);
  const runDir = join(ctx.runsDir, plan.runId);
  const base = { runId: plan.runId, category: plan.category, model: plan.model, seed: plan.seed };

  const t0 = performance.now();
  // So the high-water mark read after scoring covers this cell only (Linux, where permitted).
  const peakRssScope = resetPeakMemory() ? "cell" : "process";
  const recorder = new RunRecorder(runDir, initialRecord(ctx, plan));
  const durations = { loadSeconds: 0, trainSeconds: 0, scoreSeconds: 0, metricsSeconds: 0, totalSeconds: 0 };
  const epochs: EpochReport[] = [];
  let resumed = false;
  let stage = "load";
  let trained: TrainedModel | null = null;
  await recorder.save();
  await recorder.event("INTERVAL_START", "run_start", null, {
    run_id: plan.runId,
    dataset: plan.dataset,
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

    let trainingEpochs: EpochReport[] = []; // none when the weights were trained elsewhere
    if (plan.weights) {
      stage = "load-weights";
      const names = plan.weights.files.map((f) => f.name).join(" + ");
      log(
        `${label}: scoring weights trained elsewhere (${names}, digest ${
          plan.weights.digest.slice(0, 12)
        }); no training`,
      );
      trained = await deps.loadWeights!(ctx.weightPaths!, plan.config, plan.weights.digest);
    } else {
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
        data: plan.training.data,
        checkpointDir: checkpointDirOf(ctx.outDir, plan),
        checkpoint: ctx.checkpoint,
        signal: ctx.signal,
        onResume: (from) => {
          resumed = true;
          log(`${label}: ${describeResume(from, plan.config.epochs)}`);
        },
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
      resumed = result.resumedFrom !== null;
      durations.trainSeconds = (performance.now() - t) / 1000;
      trainingEpochs = result.epochs.length > 0 ? result.epochs : epochs;
      await recorder.save({ training: { epochs: trainingEpochs, bestEpoch: result.bestEpoch, resumed } });
    }

    stage = "score";
    t = performance.now();
    const raws = await deps.scoreImages(trained, split.test, { batchSize: ctx.scoreBatchSize });
    durations.scoreSeconds = (performance.now() - t) / 1000;

    stage = "efficiency";
    const efficiency = await measureEfficiency(ctx, plan, trained, split, trainingEpochs, peakRssScope);

    stage = "metrics";
    t = performance.now();
    const hasMasks = split.test.some((s) => s.mask !== null);
    const original = plan.evaluation.resolution === "original" && hasMasks
      ? {
        masks: await loadOriginalMasks(ctx.ensured.root, split.test, deps.decodeImage!),
        geometry: { resize: plan.preprocess.resize, crop: plan.preprocess.crop },
      }
      : undefined;
    const evaluation = evaluateCategory(split.test, raws, {
      ...plan.evaluation,
      original,
      dialects: ctx.dialects,
      breakdown: ctx.breakdown ?? true,
    });
    durations.metricsSeconds = (performance.now() - t) / 1000;
    for (const m of evaluation.metrics) {
      await recorder.event("POINT_IN_TIME", "eval_accuracy", m.value, {
        metric: m.key,
        definition: m.definition,
        scored_by: m.scoredBy,
      });
    }

    stage = "panels";
    const artifacts = evaluation.maps && evaluation.masks && ctx.panels > 0
      ? await writeHeatmapPanels(runDir, split.test, evaluation.scores, evaluation.maps, ctx.panels)
      : [];

    durations.totalSeconds = (performance.now() - t0) / 1000;
    await recorder.save({
      status: "completed",
      finishedAt: new Date().toISOString(),
      durations,
      metrics: evaluation.metrics,
      ...(ctx.dialects && ctx.dialects.length > 0
        ? {
          dialectValues: evaluation.dialectValues,
          dialectsRequested: ctx.dialects.map((v) => v.key),
        }
        : {}),
      ...(evaluation.breakdowns ? { breakdowns: evaluation.breakdowns } : {}),
      ...(efficiency ? { efficiency } : {}),
      ...(evaluation.proCurve ? { curves: { pro: evaluation.proCurve } } : {}),
      artifacts,
      outputs: outputsDigest(evaluation.scores, evaluation.maps),
    });
    await recorder.event("INTERVAL_END", "run_stop", null, { status: "success" });
    await recorder.flush();
    const summary = evaluation.metrics.map((m) => `${m.key} ${m.value.toFixed(4)}`).join("  ");
    log(`${label}: done in ${formatDuration(durations.totalSeconds)}  ${summary}`);
    return { ...base, status: "completed", record: recorder.record, seconds: durations.totalSeconds };
  } catch (error) {
    const interrupted = ctx.signal?.aborted === true;
    const message = interrupted
      ? `interrupted during ${stage}; run the same command again to continue from the checkpoint`
      : error instanceof Error
      ? error.message
      : String(error);
    durations.totalSeconds = (performance.now() - t0) / 1000;
    const trainingSoFar = recorder.record.training ??
      (epochs.length > 0 ? { epochs, bestEpoch: null, resumed } : null);
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
 * Times the trained model's forward passes under the cell's efficiency protocol and combines them with
 * its parameters, FLOPs, peak memory and training time. A failure is logged and leaves no efficiency
 * record: it never aborts a cell whose metrics are fine.
 */
async function measureEfficiency(
  ctx: RunContext,
  plan: CellPlan,
  trained: TrainedModel,
  split: CategorySplit,
  epochs: EpochReport[],
  peakRssScope: "cell" | "process",
) {
  const choice = ctx.efficiency ?? "auto";
  if (choice === "off") return undefined;
  const protocol = choice === "auto" ? efficiencyProtocolFor(plan.config.name) : EFFICIENCY_PROTOCOLS[choice];
  try {
    // The scorer downloads its outputs to the CPU, which waits for asynchronous backends: that is the
    // synchronisation before each clock read.
    const timings = await timeForwards({
      forward: (batch) => ctx.deps.scoreImages(trained, batch, { batchSize: batch.length }),
      inputs: split.test,
      protocol,
    });
    return efficiencyOf({
      config: plan.config,
      protocol,
      timings,
      trainSeconds: epochs.reduce((a, e) => a + e.seconds, 0),
      peakRssBytes: peakMemoryBytes(),
      peakRssScope,
      backend: ctx.backend.engine ?? ctx.backend.name,
    });
  } catch (error) {
    ctx.log(`${labelOf(plan)}: efficiency not measured: ${error instanceof Error ? error.message : error}`);
    return undefined;
  }
}
