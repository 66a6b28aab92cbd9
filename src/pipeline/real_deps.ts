/**
 * The real {@linkcode PipelineDeps}: the data layer (src/datasets), the trainer and scorer (src/train),
 * loaded lazily so that `reproduce --help` stays cheap.
 *
 * @module
 */
import type { PipelineDeps } from "./deps.ts";

/**
 * Loads the real modules behind {@linkcode PipelineDeps}.
 *
 * @example
 * ```ts
 * const result = await runReproduce(options, await loadRealDeps());
 * ```
 */
export async function loadRealDeps(): Promise<PipelineDeps> {
  const [ensure, loaders, decode, backend, trainer, score, weights] = await Promise.all([
    import("../datasets/ensure.ts"),
    import("../datasets/loaders.ts"),
    import("../datasets/image_decode.ts"),
    import("../train/backend.ts"),
    import("../train/trainer.ts"),
    import("../train/score.ts"),
    import("../weights/weight_files.ts"),
  ]);
  return {
    ensureDataset: ensure.ensureDataset,
    listCategories: loaders.listCategories,
    loadCategorySplit: loaders.loadCategorySplit,
    initBackend: backend.initBackend,
    trainModel: trainer.trainModel,
    scoreImages: score.scoreImages,
    decodeImage: decode.decodeImage,
    loadWeights: weights.loadWeightsModel,
  };
}
