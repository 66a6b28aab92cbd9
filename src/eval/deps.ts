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
import type { ModelConfig } from "../models/configs.ts";
import type { BackendChoice, BackendInfo, BackendOptions } from "../train/backend.ts";
import type { RawScores } from "../train/score.ts";
import type { EpochReport, TrainedModel, TrainOptions, TrainResult } from "../train/trainer.ts";

export type {
  AuProResult,
  BackendChoice,
  BackendInfo,
  EnsuredDataset,
  EnsureOptions,
  EpochReport,
  MaskMap,
  ModelConfig,
  PreprocessOptions,
  RawScores,
  ScoreMap,
  TrainedModel,
  TrainOptions,
  TrainResult,
};

/** The datasets the harness knows. */
export type DatasetName = "mvtec" | "btad" | "mnist" | "fashion-mnist" | "synthetic";

/** The three models the paper compares. */
export type ModelName = "vtadl" | "ae-mse" | "ae-ssim";

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
  initBackend(choice: BackendChoice, options?: BackendOptions): Promise<BackendInfo>;
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
