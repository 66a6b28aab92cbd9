/**
 * What the reproduce pipeline needs from the data layer, the trainer and the scorer, as one injectable
 * object ({@linkcode PipelineDeps}). The pipeline only ever calls these (and pure functions: configs,
 * plan, metrics), so tests can inject fakes and `real_deps.ts` wires the real modules.
 *
 * @module
 */
import type { CategorySplit, ImageSample } from "../datasets/types.ts";
import type { EnsuredDataset, EnsureOptions } from "../datasets/ensure.ts";
import type { PreprocessOptions } from "../datasets/loaders.ts";
import type { DatasetName } from "../core/datasets.ts";
import type { BackendChoice, BackendInfo, BackendOptions } from "../train/backend.ts";
import type { RawScores } from "../train/score.ts";
import type { TrainedModel, TrainOptions, TrainResult } from "../train/trainer.ts";
import type { ModelConfig } from "../models/configs.ts";

/** Everything the reproduce pipeline calls outside `src/pipeline`, `src/eval` and `src/runs`. */
export interface PipelineDeps {
  ensureDataset(dataset: DatasetName, options: EnsureOptions): Promise<EnsuredDataset>;
  listCategories(dataset: string, root: string): Promise<string[]>;
  loadCategorySplit(
    dataset: string,
    root: string,
    category: string,
    pre: PreprocessOptions,
  ): Promise<CategorySplit>;
  initBackend(choice: BackendChoice, options?: BackendOptions): Promise<BackendInfo>;
  trainModel(options: TrainOptions): Promise<TrainResult>;
  scoreImages(
    model: TrainedModel,
    images: ImageSample[],
    options?: { batchSize?: number },
  ): Promise<RawScores[]>;
  /**
   * Loads weights trained elsewhere (`reproduce --weights`: the original `.pt` pair, safetensors or a
   * checkpoint) into a model of `config`, refusing files whose digest is no longer `digest`.
   */
  loadWeights?(paths: string[], config: ModelConfig, digest: string): Promise<TrainedModel>;
  /** Decodes an image file (src/datasets/image_decode.ts); needed only for `--eval-resolution original`. */
  decodeImage?(path: string): Promise<{ width: number; height: number; channels: number; data: Uint8Array }>;
}
