/**
 * The real {@linkcode PipelineDeps}: the data layer (src/datasets), the models and trainer (src/models,
 * src/train) and the metric engine (src/metrics), loaded lazily so that `reproduce --help` stays cheap.
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
  const [ensure, loaders, decode, configs, backend, trainer, score, metrics] = await Promise.all([
    import("../datasets/ensure.ts"),
    import("../datasets/loaders.ts"),
    import("../datasets/image_decode.ts"),
    import("../models/configs.ts"),
    import("../train/backend.ts"),
    import("../train/trainer.ts"),
    import("../train/score.ts"),
    import("../metrics/mod.ts"),
  ]);
  return {
    ensureDataset: ensure.ensureDataset,
    listCategories: loaders.listCategories,
    loadCategorySplit: loaders.loadCategorySplit,
    resolveConfig: configs.resolveConfig,
    configHash: configs.configHash,
    initBackend: backend.initBackend,
    trainModel: trainer.trainModel,
    scoreImages: score.scoreImages,
    metrics: {
      rocAuc: metrics.rocAuc,
      averagePrecision: metrics.averagePrecision,
      prAucTrapezoid: metrics.prAucTrapezoid,
      pixelAuroc: metrics.pixelAuroc,
      vtadlCodePro: metrics.vtadlCodePro,
      auPro: metrics.auPro,
    },
    decodeImage: decode.decodeImage,
  };
}
