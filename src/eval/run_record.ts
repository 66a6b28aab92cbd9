/**
 * Run records: `<runs>/<run-id>/result.json` (everything needed to trace a number: code version,
 * versions, backend, resolved config and hash, seed, dataset digest and licence, per-epoch losses,
 * durations, every metric with its variant) and `<runs>/<run-id>/events.jsonl` (MLPerf-style events:
 * `run_start`, `epoch_start`/`epoch_stop`, `eval_accuracy`, `run_stop` with a status).
 *
 * Both files are rewritten atomically on every change, so a reader (or a crash) never sees half a file.
 * Tables are rendered from these records only.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic_write.ts";
import type { BackendInfo, EpochReport, ModelConfig, ModelName } from "./deps.ts";
import type { EnvironmentInfo } from "./environment.ts";
import type { MetricEntry } from "./evaluate.ts";
import type { AnomalyMapKind, ImageScoreVariant } from "./image_score.ts";

/** Schema tag of result.json; bump when a field changes meaning. */
export const RUN_RECORD_SCHEMA = "vtadl-bench/run-record@1";

/** A run's state: `running` while in progress (or if the process died), then `completed` or `aborted`. */
export type RunStatus = "running" | "completed" | "aborted";

/** Evaluation settings of a run (part of the cell key). */
export interface EvaluationSettings {
  imageScore: ImageScoreVariant;
  anomalyMap: AnomalyMapKind;
  heatmapSigma: number;
  resolution: "preprocessed" | "original";
  integrationLimit: number;
}

/** The content of `result.json`. */
export interface RunRecord {
  schema: typeof RUN_RECORD_SCHEMA;
  runId: string;
  /** sha256 over config hash, dataset digest, category, seed and evaluation settings: what "same cell" means. */
  cellKey: string;
  status: RunStatus;
  error: { stage: string; message: string } | null;
  startedAt: string;
  finishedAt: string | null;
  dataset: {
    name: string;
    category: string;
    lockDigest: string;
    licence: string;
    archiveDigests: Record<string, string>;
    preprocess: { resize: number; crop: number; maskResize: string | null };
    counts: { train: number; test: number; testAnomalous: number } | null;
    /** Limits applied to the split (evenly spaced subsample), or null for the full split. */
    subsample?: { maxTrain?: number; maxTest?: number } | null;
  };
  model: ModelName;
  config: { name: string; hash: string; variant: string; resolved: ModelConfig };
  seed: number;
  evaluation: EvaluationSettings;
  environment: EnvironmentInfo;
  backend: BackendInfo;
  training: { epochs: EpochReport[]; bestEpoch: number | null; resumed: boolean } | null;
  durations: {
    loadSeconds: number;
    trainSeconds: number;
    scoreSeconds: number;
    metricsSeconds: number;
    totalSeconds: number;
  };
  metrics: MetricEntry[];
  /** Files written beside the record (heat-map panels), relative to the run folder. */
  artifacts: string[];
}

/** One MLPerf-style logging event (the `:::MLLOG` payload, one per line of events.jsonl). */
export interface RunEvent {
  namespace: "vtadl-bench";
  time_ms: number;
  event_type: "INTERVAL_START" | "INTERVAL_END" | "POINT_IN_TIME";
  key: string;
  value: unknown;
  metadata: Record<string, unknown>;
}

/**
 * Writes one run's record and event log, each change atomically.
 *
 * @example
 * ```ts
 * const rec = new RunRecorder("reports/runs/synthetic_a_vtadl_smoke_seed0_1234abcd", record);
 * await rec.event("INTERVAL_START", "run_start", null);
 * await rec.save({ status: "completed" });
 * ```
 */
export class RunRecorder {
  readonly dir: string;
  #record: RunRecord;
  #events: RunEvent[] = [];
  #pending: Promise<void> = Promise.resolve();

  constructor(dir: string, record: RunRecord) {
    this.dir = dir;
    this.#record = record;
  }

  /** The record as last updated. */
  get record(): RunRecord {
    return this.#record;
  }

  /** Events logged so far. */
  get events(): readonly RunEvent[] {
    return this.#events;
  }

  /** Merges `patch` into the record and rewrites result.json. */
  save(patch: Partial<RunRecord> = {}): Promise<void> {
    this.#record = { ...this.#record, ...patch };
    const snapshot = structuredClone(this.#record);
    return this.#enqueue(() => writeJsonAtomic(join(this.dir, "result.json"), snapshot));
  }

  /** Appends an event (time now unless `timeMs` is given) and rewrites events.jsonl. */
  event(
    eventType: RunEvent["event_type"],
    key: string,
    value: unknown,
    metadata: Record<string, unknown> = {},
    timeMs = Date.now(),
  ): Promise<void> {
    this.#events.push({
      namespace: "vtadl-bench",
      time_ms: timeMs,
      event_type: eventType,
      key,
      value,
      metadata,
    });
    const text = this.#events.map((e) => JSON.stringify(e)).join("\n") + "\n";
    return this.#enqueue(() => writeFileAtomic(join(this.dir, "events.jsonl"), text));
  }

  /** Waits for every queued write. */
  flush(): Promise<void> {
    return this.#pending;
  }

  #enqueue(write: () => Promise<void>): Promise<void> {
    this.#pending = this.#pending.then(write, write);
    return this.#pending;
  }
}

/** Reads `events.jsonl` of a run folder. */
export async function readRunEvents(runDir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(runDir, "events.jsonl"));
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as RunEvent);
}

/** Reads one `result.json`; null if absent. Throws naming the file when it is not a run record. */
export async function readRunRecord(path: string): Promise<RunRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; delete the run folder to rerun that cell`);
  }
  const v = value as Partial<RunRecord>;
  if (v?.schema !== RUN_RECORD_SCHEMA || typeof v.runId !== "string" || !Array.isArray(v.metrics)) {
    throw new Error(`${path} is not a ${RUN_RECORD_SCHEMA} record (schema '${v?.schema}')`);
  }
  return v as RunRecord;
}

/** Every run record under `runsDir` (one folder per run), sorted by run id; warnings for unreadable ones. */
export async function readRunRecords(
  runsDir: string,
): Promise<{ records: RunRecord[]; warnings: string[] }> {
  const records: RunRecord[] = [];
  const warnings: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(runsDir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { records, warnings: [`no run folder at ${runsDir}`] };
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory || entry.name.startsWith(".")) continue;
    try {
      const record = await readRunRecord(join(runsDir, entry.name, "result.json"));
      if (record) records.push(record);
    } catch (error) {
      warnings.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { records, warnings };
}
