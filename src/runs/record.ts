/**
 * The run record (`<runs>/<run-id>/result.json`) as a zod schema: everything needed to trace a number
 * (code version, versions, backend, resolved config and hash, seed, the dataset's lock and content
 * digests, training identity, per-epoch losses, durations) and every metric with the definition it
 * follows. The pipeline writes records, `report` reads them; both import this file, nothing else.
 *
 * Records of the previous schema (`run-record@1`) are read and upgraded: their metric `variant` is the
 * `definition` of today, and they lack the content digest and the training key.
 *
 * @module
 */
import { z } from "zod";
import { DatasetNameSchema } from "../core/datasets.ts";
import { ANOMALY_MAPS, IMAGE_SCORES, ModelNameSchema } from "../core/models.ts";
import { METRIC_DIALECT_NAMES, METRIC_KEYS } from "../core/metrics.ts";
import type { ModelConfig } from "../models/configs.ts";

/** Schema tag of result.json; bump when a field changes meaning. */
export const RUN_RECORD_SCHEMA = "vtadl-bench/run-record@2";
const PREVIOUS_SCHEMA = "vtadl-bench/run-record@1";

/** A run's state: `running` while in progress (or if the process died), then `completed` or `aborted`. */
export const RUN_STATUSES = ["running", "completed", "aborted"] as const;
/** A run's state. */
export type RunStatus = typeof RUN_STATUSES[number];

/** Pixel metrics at the preprocessed size, or mapped back onto the original masks. */
export const EVAL_RESOLUTIONS = ["preprocessed", "original"] as const;
/** An evaluation resolution. */
export type EvalResolution = typeof EVAL_RESOLUTIONS[number];

/** Evaluation settings of a run (part of the cell key). */
export const EvaluationSettingsSchema = z.object({
  imageScore: z.enum(IMAGE_SCORES),
  anomalyMap: z.enum(ANOMALY_MAPS),
  heatmapSigma: z.number().nonnegative(),
  resolution: z.enum(EVAL_RESOLUTIONS),
  integrationLimit: z.number().positive().max(1),
});
/** Evaluation settings of a run. */
export type EvaluationSettings = z.infer<typeof EvaluationSettingsSchema>;

/** One epoch's summary, as the trainer reports it. */
export const EpochReportSchema = z.object({
  epoch: z.number().int().positive(),
  loss: z.number(),
  terms: z.record(z.string(), z.number()),
  imagesPerSecond: z.number(),
  seconds: z.number(),
});

/** One metric of a record, with the names a reader needs to compare it with a published number. */
export const MetricEntrySchema = z.object({
  /** Metric key (the `record` key style of `src/core/metrics.ts`). */
  key: z.enum(METRIC_KEYS),
  /** Human label, e.g. `VT-ADL-code PRO (= pixel ROC-AUC, all images)`. */
  label: z.string(),
  /** The definition it follows (`docs/metrics.md`): `image-AUROC`, `pixel-AUROC/all`, `AU-PRO@0.3`, … */
  definition: z.string(),
  value: z.number(),
  /** Image score (image metrics) or anomaly-map kind (pixel metrics) the value was computed from. */
  scoredBy: z.string(),
  /** Extra facts (pixel metrics: resolution, σ; AU-PRO: regions, OK pixels, degenerate flag, warnings). */
  details: z.record(z.string(), z.unknown()).optional(),
  /** The metric dialect (`src/core/metrics.ts`); absent in old records, where it is `official`. */
  dialect: z.enum(METRIC_DIALECT_NAMES).optional(),
});
/** One metric of a record. */
export type MetricEntry = z.infer<typeof MetricEntrySchema>;

/** One extra metric variant computed with `--dialects` (`DIALECT_VARIANTS` of `src/core/metrics.ts`). */
export const DialectValueSchema = z.object({
  /** Variant key, e.g. `au-pro/ader-200`. */
  variant: z.string(),
  /** The official metric it is another dialect of (null for F1-max). */
  metric: z.enum(METRIC_KEYS).nullable(),
  /** The definition family (`image-AUROC`, `AU-PRO@0.3`, `F1-max/pixel`, …). */
  definition: z.string(),
  dialect: z.enum(METRIC_DIALECT_NAMES),
  label: z.string(),
  value: z.number(),
  /** Image score or anomaly-map kind it was computed from. */
  scoredBy: z.string(),
  /** The code it reproduces. */
  source: z.string(),
});
/** One extra metric variant of a record. */
export type DialectValue = z.infer<typeof DialectValueSchema>;

/** Image AUROC and AU-PRO of one defect type against the category's normal test images. */
export const DefectBreakdownRowSchema = z.object({
  /** Defect folder (`test/<defect>/` in MVTec AD, `ko` in BTAD). */
  defectType: z.string(),
  /** Anomalous test images of this type. */
  nAnomalous: z.number().int().nonnegative(),
  /** Normal test images (the negatives of every row). */
  nNormal: z.number().int().nonnegative(),
  /** Image ROC-AUC of this type vs the normal images (null without normal images). */
  imageAuroc: z.number().nullable(),
  /** AU-PRO (official) over this type's and the normal images' maps (null without maps). */
  auPro: z.number().nullable(),
  /** Defect regions of this type. */
  nRegions: z.number().int().nonnegative().nullable(),
});
/** Per-defect-type results of one run. */
export const BreakdownsSchema = z.object({
  /** Dialect of both columns. */
  dialect: z.literal("official"),
  integrationLimit: z.number(),
  rows: z.array(DefectBreakdownRowSchema),
});
/** Per-defect-type results of one run. */
export type Breakdowns = z.infer<typeof BreakdownsSchema>;

/** Efficiency of one run under a fixed protocol (`src/eval/efficiency.ts`). */
export const EfficiencySchema = z.object({
  /** Protocol name and its counts (warm-up runs, timed runs, batch size). */
  protocol: z.object({
    name: z.string(),
    warmupRuns: z.number().int().nonnegative(),
    timedRuns: z.number().int().positive(),
    batchSize: z.number().int().positive(),
  }),
  /** Parameters (trainable and not, e.g. BatchNorm statistics: everything a checkpoint stores). */
  parameters: z.number().int().nonnegative(),
  trainableParameters: z.number().int().nonnegative(),
  /** Analytic forward FLOPs (2·MAC) of one image (`src/models/flops.ts`). */
  flopsPerImage: z.number().nonnegative(),
  /** Input side in pixels. */
  imageSize: z.number().int().positive(),
  /** The process's resident-set high-water mark when measured (bytes; null where unknown). */
  peakRssBytes: z.number().nullable(),
  /** `cell`: since the cell started (Linux, high-water mark reset); `process`: since the process started. */
  peakRssScope: z.enum(["cell", "process"]).optional(),
  /** Wall time of training (sum of the epochs' own times). */
  trainSeconds: z.number().nonnegative(),
  /** Batch-1 forward latency over the timed runs, milliseconds. */
  latencyMs: z.object({ median: z.number(), mean: z.number(), min: z.number(), max: z.number() }),
  /** Images per second of batch forwards over the timed runs (median run). */
  throughputImagesPerSecond: z.number().positive(),
  /** Backend (and engine) it ran on. */
  backend: z.string(),
});
/** Efficiency of one run. */
export type Efficiency = z.infer<typeof EfficiencySchema>;

const adapterSchema = z.object({
  vendor: z.string(),
  device: z.string(),
  description: z.string(),
  isFallbackAdapter: z.boolean(),
});

/** Weights trained elsewhere, identified by their files (`reproduce --weights`). */
export const ImportedWeightsSchema = z.object({
  source: z.literal("imported"),
  /** SHA-256 over the files' sorted SHA-256s. */
  digest: z.string(),
  files: z.array(z.object({ name: z.string(), sha256: z.string(), format: z.string() })),
});

/** {@linkcode ImportedWeightsSchema}'s type. */
export type ImportedWeights = z.infer<typeof ImportedWeightsSchema>;

/** The content of `result.json`. */
export const RunRecordSchema = z.object({
  schema: z.literal(RUN_RECORD_SCHEMA),
  runId: z.string().min(1),
  /** sha256 over the training key and the evaluation settings: what "same cell" means. */
  cellKey: z.string(),
  /** sha256 over everything that goes into training (see `src/pipeline/plan.ts`); null in old records. */
  trainingKey: z.string().nullable(),
  status: z.enum(RUN_STATUSES),
  error: z.object({ stage: z.string(), message: z.string() }).nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  dataset: z.object({
    name: DatasetNameSchema,
    category: z.string(),
    lockDigest: z.string(),
    /** SHA-256 of the manifest of the extracted files that were used (null in old records). */
    contentDigest: z.string().nullable(),
    licence: z.string(),
    archiveDigests: z.record(z.string(), z.string()),
    preprocess: z.object({ resize: z.number(), crop: z.number(), maskResize: z.string().nullable() }),
    counts: z.object({ train: z.number(), test: z.number(), testAnomalous: z.number() }).nullable(),
    /** Limits applied to the split (evenly spaced subsample), or null for the full split. */
    subsample: z.object({ maxTrain: z.number().optional(), maxTest: z.number().optional() }).nullable()
      .optional(),
  }),
  model: ModelNameSchema,
  config: z.object({
    name: z.string(),
    hash: z.string(),
    /** `code`, `paper` or `harness`: whose behaviour the config follows. */
    variant: z.string(),
    resolved: z.custom<ModelConfig>((v) => typeof v === "object" && v !== null),
  }),
  seed: z.number().int().nonnegative(),
  evaluation: EvaluationSettingsSchema,
  environment: z.object({
    code: z.object({ commit: z.string(), dirty: z.boolean() }).nullable(),
    versions: z.record(z.string(), z.string()),
    os: z.object({ platform: z.string(), release: z.string().nullable(), arch: z.string() }),
    cpu: z.object({ model: z.string().nullable(), logicalCores: z.number().nullable() }),
    memoryBytes: z.number().nullable(),
  }),
  backend: z.object({
    name: z.string(),
    adapter: adapterSchema.optional(),
    versions: z.record(z.string(), z.string()),
    /** Compute engine under tfjs (absent in records written before engines were recorded). */
    engine: z.string().optional(),
    /** Threads the engine computed with. */
    threads: z.number().int().positive().optional(),
    /** Whether the same seed reproduces the run bit for bit: on any machine, the same machine, or not. */
    deterministic: z.enum(["yes", "same-machine", "no"]).optional(),
  }),
  training: z.object({
    epochs: z.array(EpochReportSchema),
    bestEpoch: z.number().nullable(),
    /** Whether this run continued from a checkpoint. */
    resumed: z.boolean(),
  }).nullable(),
  /**
   * Weights trained elsewhere that this run scored instead of training (`reproduce --weights`): the files'
   * base names and SHA-256, and the digest over them. Absent for trained runs.
   */
  weights: ImportedWeightsSchema.optional(),
  durations: z.object({
    loadSeconds: z.number(),
    trainSeconds: z.number(),
    scoreSeconds: z.number(),
    metricsSeconds: z.number(),
    totalSeconds: z.number(),
  }),
  metrics: z.array(MetricEntrySchema),
  /** Extra metric variants computed with `--dialects` (absent without). */
  dialectValues: z.array(DialectValueSchema).optional(),
  /** The variant keys `--dialects` asked for (some may not apply to the data); absent without. */
  dialectsRequested: z.array(z.string()).optional(),
  /** Per-defect-type image AUROC and AU-PRO (absent for datasets without defect types or when skipped). */
  breakdowns: BreakdownsSchema.optional(),
  /** Parameters, FLOPs, memory, training time, latency and throughput (absent when not measured). */
  efficiency: EfficiencySchema.optional(),
  /**
   * Curves behind the metrics, for plots: the PRO curve from FPR 0 through the first point past the
   * AU-PRO limit, thinned to a few hundred points (absent in older records and without masks).
   */
  curves: z.object({
    pro: z.object({
      integrationLimit: z.number().positive().max(1),
      fpr: z.array(z.number()),
      pro: z.array(z.number()),
    }).optional(),
  }).optional(),
  /** Files written beside the record (heat-map panels), relative to the run folder. */
  artifacts: z.array(z.string()),
  /**
   * Digests of the model outputs (`src/eval/outputs_digest.ts`): sha256 over the ordered anomaly maps
   * (null without masks) and over the image scores. Absent in older records and in aborted cells.
   */
  outputs: z.object({ mapsDigest: z.string().nullable(), scoresDigest: z.string() }).optional(),
});

/** The content of `result.json`. */
export type RunRecord = z.infer<typeof RunRecordSchema>;

/** Upgrades a `run-record@1` value to the current schema (metric `variant` → `definition`). */
function upgrade(value: Record<string, unknown>): Record<string, unknown> {
  if (value.schema !== PREVIOUS_SCHEMA) return value;
  const dataset = (value.dataset ?? {}) as Record<string, unknown>;
  const metrics = Array.isArray(value.metrics) ? value.metrics : [];
  return {
    ...value,
    schema: RUN_RECORD_SCHEMA,
    trainingKey: null,
    dataset: { ...dataset, contentDigest: null },
    metrics: metrics.map((m: Record<string, unknown>) => {
      const { variant, ...rest } = m;
      return { ...rest, definition: variant };
    }),
  };
}

/**
 * Validates a parsed `result.json` (upgrading an older schema); the error names the file and the field.
 *
 * @example
 * ```ts
 * const record = parseRunRecord(JSON.parse(text), "reports/runs/x/result.json");
 * ```
 */
export function parseRunRecord(value: unknown, source: string): RunRecord {
  const v = value as Record<string, unknown> | null;
  if (
    v === null || typeof v !== "object" || (v.schema !== RUN_RECORD_SCHEMA && v.schema !== PREVIOUS_SCHEMA)
  ) {
    throw new Error(`${source} is not a ${RUN_RECORD_SCHEMA} record (schema '${v?.schema}')`);
  }
  const parsed = RunRecordSchema.safeParse(upgrade(v));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${source}: field ${issue.path.join(".") || "(record)"}: ${issue.message}`);
  }
  return parsed.data;
}
