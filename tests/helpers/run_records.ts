/**
 * A completed run record built in code, for report tests: one cell of `model` on `dataset/category` with
 * the given official metric values; anything else through `extra`.
 *
 * @module
 */
import type { DatasetName } from "../../src/core/datasets.ts";
import type { MetricKey } from "../../src/core/metrics.ts";
import type { ModelName } from "../../src/core/models.ts";
import { resolveConfig } from "../../src/models/configs.ts";
import { type RunRecord, RunRecordSchema } from "../../src/runs/record.ts";

/** A schema-valid completed record. */
export function completedRecord(
  dataset: DatasetName,
  category: string,
  model: ModelName,
  metrics: Partial<Record<MetricKey, number>>,
  extra: Partial<RunRecord> = {},
): RunRecord {
  const autoencoder = model !== "vtadl";
  const record: RunRecord = {
    schema: "vtadl-bench/run-record@2",
    runId: `${dataset}_${category}_${model}_smoke_seed0_abcdef12`,
    cellKey: "c".repeat(64),
    trainingKey: "t".repeat(64),
    status: "completed",
    error: null,
    startedAt: "2026-01-01T00:00:00Z",
    finishedAt: "2026-01-01T00:01:00Z",
    dataset: {
      name: dataset,
      category,
      lockDigest: "0".repeat(64),
      contentDigest: "f".repeat(64),
      licence: "CC0-1.0",
      archiveDigests: {},
      preprocess: { resize: 32, crop: 32, maskResize: null },
      counts: { train: 10, test: 10, testAnomalous: 5 },
    },
    model,
    config: {
      name: "smoke",
      hash: "ab".repeat(32),
      variant: "harness",
      resolved: resolveConfig(model, "smoke"),
    },
    seed: 0,
    evaluation: {
      imageScore: autoencoder ? "mse" : "code",
      anomalyMap: autoencoder ? "error" : "patchNll",
      heatmapSigma: autoencoder ? 0 : 4,
      resolution: "preprocessed",
      integrationLimit: 0.3,
    },
    environment: {
      code: { commit: "a".repeat(40), dirty: false },
      versions: { deno: "2.9.6" },
      os: { platform: "linux", release: null, arch: "x64" },
      cpu: { model: null, logicalCores: 2 },
      memoryBytes: null,
    },
    backend: { name: "cpu", versions: {} },
    training: { epochs: [], bestEpoch: 1, resumed: false },
    durations: { loadSeconds: 0, trainSeconds: 1, scoreSeconds: 0, metricsSeconds: 0, totalSeconds: 1 },
    metrics: Object.entries(metrics).map(([key, value]) => ({
      key: key as MetricKey,
      label: key,
      definition: key,
      value: value!,
      scoredBy: "code",
      dialect: "official" as const,
    })),
    artifacts: [],
    ...extra,
  };
  return RunRecordSchema.parse(record);
}
