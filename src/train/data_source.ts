/**
 * Where `train` gets its images: the data layer's `ensureDataset` + `loadCategorySplit`
 * (docs: notes/interfaces.md, issue 3), adapted to a config's resize/crop.
 *
 * MERGE NOTE (lead): the data layer is written in a parallel branch, so this adapter imports it
 * dynamically when `src/datasets/ensure.ts` and `src/datasets/loaders.ts` exist. At merge, replace the
 * dynamic imports with static ones. The `synthetic-noise` dataset below is a STUB for this branch's own
 * tests only (random images, no masks); it is isolated in this file and can be deleted at merge.
 *
 * @module
 */
import type { CategorySplit, ImageSample } from "../datasets/types.ts";
import type { ModelConfig } from "../models/configs.ts";
import { RandomStream } from "./rng.ts";

/** Where and how to load a category. */
export interface DataSourceOptions {
  dataset: string;
  category: string;
  dataDir: string;
  config: ModelConfig;
  offline?: boolean;
}

/** The subset of the data layer's API this adapter calls (notes/interfaces.md, "Datasets"). */
interface DataLayer {
  ensureDataset(
    dataset: string,
    options: { dataDir: string; offline?: boolean; quiet?: boolean },
  ): Promise<{ root: string }>;
  loadCategorySplit(
    dataset: string,
    root: string,
    category: string,
    pre: { resize: number; crop: number; maskResize?: "bilinearAnyPositive" | "nearest" },
  ): Promise<CategorySplit>;
}

async function importDataLayer(): Promise<DataLayer> {
  const ensureUrl = new URL("../datasets/ensure.ts", import.meta.url).href;
  const loadersUrl = new URL("../datasets/loaders.ts", import.meta.url).href;
  try {
    const [ensure, loaders] = await Promise.all([import(ensureUrl), import(loadersUrl)]);
    return { ensureDataset: ensure.ensureDataset, loadCategorySplit: loaders.loadCategorySplit };
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new Error(
      `the data layer (src/datasets/ensure.ts, loaders.ts) is not available in this build: ${message}`,
    );
  }
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
  if (dataset === SYNTHETIC_NOISE) return syntheticNoiseSplit(category, config.imageSize);
  const layer = await importDataLayer();
  const { root } = await layer.ensureDataset(dataset, { dataDir, offline: options.offline });
  return await layer.loadCategorySplit(dataset, root, category, {
    resize: config.resizeTo,
    crop: config.imageSize,
    maskResize: config.maskResize,
  });
}

/** STUB dataset name (this branch's tests only): random images. */
export const SYNTHETIC_NOISE = "synthetic-noise";

/**
 * STUB: a split of smooth random images (8 train, 4 test: 2 normal, 2 with a bright square), seeded by
 * the category name. Only for exercising `train` before the data layer is merged.
 */
export function syntheticNoiseSplit(category: string, size: number, trainCount = 8): CategorySplit {
  let seed = 0;
  for (const ch of category) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
  const rng = RandomStream.derive(seed, "init");
  const image = (path: string, label: 0 | 1): ImageSample => {
    const pixels = new Uint8Array(size * size * 3);
    const base = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const wave = 0.5 + 0.25 * Math.sin((x + 3 * c) / 3) * Math.cos(y / 4);
          pixels[(y * size + x) * 3 + c] = Math.round(255 * Math.min(1, 0.5 * base[c] + 0.5 * wave));
        }
      }
    }
    let mask: Uint8Array | null = null;
    if (label === 1) {
      mask = new Uint8Array(size * size);
      const s = Math.max(2, Math.floor(size / 6));
      const x0 = Math.floor(rng.uniform() * (size - s));
      const y0 = Math.floor(rng.uniform() * (size - s));
      for (let y = y0; y < y0 + s; y++) {
        for (let x = x0; x < x0 + s; x++) {
          mask[y * size + x] = 1;
          pixels.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
        }
      }
    }
    return {
      path,
      label,
      defectType: label ? "square" : "good",
      width: size,
      height: size,
      channels: 3,
      pixels,
      mask,
    };
  };
  const train = Array.from({ length: trainCount }, (_, i) => image(`${category}/train/good/${i}.png`, 0));
  const test = [
    image(`${category}/test/good/0.png`, 0),
    image(`${category}/test/good/1.png`, 0),
    image(`${category}/test/square/0.png`, 1),
    image(`${category}/test/square/1.png`, 1),
  ];
  return { dataset: SYNTHETIC_NOISE, category, train, test };
}
