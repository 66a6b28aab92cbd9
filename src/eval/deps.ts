/**
 * What the reproduce pipeline needs from the data layer, the models/trainer and the metric engine, as
 * one injectable object ({@linkcode PipelineDeps}). The shapes follow the binding cross-part contract
 * (`notes/interfaces.md`); the pipeline only ever calls these, so tests can inject fakes and
 * `real_deps.ts` wires the real modules.
 *
 * @module
 */
import type { CategorySplit, ImageSample } from "../datasets/types.ts";
import type { EnsuredDataset, EnsureOptions } from "../datasets/ensure.ts";
import type { PreprocessOptions } from "../datasets/loaders.ts";
import type { AuProResult, MaskMap, ScoreMap } from "../metrics/mod.ts";
import type { RawScores } from "./image_score.ts";

export type { AuProResult, EnsuredDataset, EnsureOptions, MaskMap, PreprocessOptions, ScoreMap };

/** The datasets the harness knows. */
export type DatasetName = "mvtec" | "btad" | "mnist" | "fashion-mnist" | "synthetic";

/** The three models the paper compares. */
export type ModelName = "vtadl" | "ae-mse" | "ae-ssim";

/** A resolved model config (src/models/configs.ts): plain data; the fields the pipeline reads. */
export interface ModelConfig {
  name: string;
  imageSize: number;
  resizeTo: number;
  patchSize: number;
  batchSize: number;
  epochs: number;
  learningRate: number;
  weightDecay: number;
}

/** The tfjs backend in use (src/train/backend.ts). */
export interface BackendInfo {
  name: "tensorflow" | "webgpu" | "cpu";
  adapter?: { vendor: string; device: string; description: string; isFallbackAdapter: boolean };
  versions: Record<string, string>;
}

/** One finished training epoch (src/train/trainer.ts). */
export interface EpochReport {
  epoch: number;
  loss: number;
  terms: Record<string, number>;
  imagesPerSecond: number;
  seconds: number;
}

/** A trained model; the pipeline only scores with it and disposes it. */
export interface TrainedModel {
  dispose(): void;
}

/** Options of `trainModel` (src/train/trainer.ts). */
export interface TrainOptions {
  model: ModelName;
  config: ModelConfig;
  seed: number;
  train: ImageSample[];
  checkpointDir: string;
  resume?: boolean;
  onEpoch?: (report: EpochReport) => void;
  signal?: AbortSignal;
}

/** What `trainModel` returns. */
export interface TrainResult {
  model: TrainedModel;
  epochs: EpochReport[];
  bestEpoch: number;
  seconds: number;
}

/** The metric functions the evaluation calls (src/metrics/mod.ts). */
export interface MetricFunctions {
  rocAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number;
  averagePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number;
  prAucTrapezoid(scores: ArrayLike<number>, labels: ArrayLike<number>): number;
  pixelAuroc(maps: ScoreMap[], masks: MaskMap[]): number;
  vtadlCodePro(maps: ScoreMap[], masks: MaskMap[]): number;
  auPro(maps: ScoreMap[], masks: MaskMap[], options?: { integrationLimit?: number }): AuProResult;
}

/** Everything the reproduce pipeline calls outside `src/eval` and `src/report`. */
export interface PipelineDeps {
  ensureDataset(dataset: DatasetName, options: EnsureOptions): Promise<EnsuredDataset>;
  listCategories(dataset: string, root: string): Promise<string[]>;
  loadCategorySplit(
    dataset: string,
    root: string,
    category: string,
    pre: PreprocessOptions,
  ): Promise<CategorySplit>;
  resolveConfig(model: ModelName, name: string, overrides?: Record<string, string>): ModelConfig;
  configHash(config: ModelConfig): string;
  initBackend(choice: "auto" | "tensorflow" | "webgpu" | "cpu"): Promise<BackendInfo>;
  trainModel(options: TrainOptions): Promise<TrainResult>;
  scoreImages(
    model: TrainedModel,
    images: ImageSample[],
    options?: { batchSize?: number },
  ): Promise<RawScores[]>;
  metrics: MetricFunctions;
  /** Decodes an image file (src/datasets/image_decode.ts); needed only for `--eval-resolution original`. */
  decodeImage?(path: string): Promise<{ width: number; height: number; channels: number; data: Uint8Array }>;
}

/** Reads an optional field of a resolved config without widening its type (configs are plain data). */
export function configField<T>(config: ModelConfig, key: string): T | undefined {
  return (config as unknown as Record<string, unknown>)[key] as T | undefined;
}
