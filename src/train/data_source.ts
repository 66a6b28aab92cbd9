/**
 * Where `train` gets its images: the data layer's `ensureDataset` + `loadCategorySplit`, adapted to a
 * config's resize/crop (vtadl-original-code.md §9: resize to resizeTo², centre crop imageSize²).
 *
 * @module
 */
import type { CategorySplit } from "../datasets/types.ts";
import type { DatasetName } from "../datasets/lock.ts";
import { ensureDataset } from "../datasets/ensure.ts";
import { loadCategorySplit } from "../datasets/loaders.ts";
import type { ModelConfig } from "../models/configs.ts";

/** Where and how to load a category. */
export interface DataSourceOptions {
  dataset: string;
  category: string;
  dataDir: string;
  config: ModelConfig;
  offline?: boolean;
  mirrors?: string[];
}

/**
 * Loads one category's split preprocessed for `config` (resize to resizeTo, centre crop imageSize).
 *
 * @example
 * ```ts
 * const split = await loadTrainingSplit({ dataset: "mvtec", category: "bottle", dataDir: "data", config });
 * ```
 */
export async function loadTrainingSplit(options: DataSourceOptions): Promise<CategorySplit> {
  const { dataset, category, dataDir, config } = options;
  const { root } = await ensureDataset(dataset as DatasetName, {
    dataDir,
    offline: options.offline,
    mirrors: options.mirrors,
  });
  return await loadCategorySplit(dataset, root, category, {
    resize: config.resizeTo,
    crop: config.imageSize,
    maskResize: config.maskResize,
  });
}
