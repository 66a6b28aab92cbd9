/**
 * The real {@linkcode PipelineDeps}: the data layer (src/datasets), the models and trainer (src/models,
 * src/train) and the metric engine (src/metrics), loaded lazily so that `reproduce --help` stays cheap.
 *
 * @module
 */
import type { PipelineDeps } from "./deps.ts";

function notMerged(name: string): never {
  throw new Error(`reproduce: ${name} (src/models, src/train) is not merged into this branch yet`);
}

/**
 * Loads the real modules behind {@linkcode PipelineDeps}.
 *
 * @example
 * ```ts
 * const result = await runReproduce(options, await loadRealDeps());
 * ```
 */
export async function loadRealDeps(): Promise<PipelineDeps> {
  const [ensure, loaders, decode, metrics] = await Promise.all([
    import("../datasets/ensure.ts"),
    import("../datasets/loaders.ts"),
    import("../datasets/image_decode.ts"),
    import("../metrics/mod.ts"),
  ]);
  return {
    ensureDataset: ensure.ensureDataset,
    listCategories: loaders.listCategories,
    loadCategorySplit: loaders.loadCategorySplit,
    resolveConfig: () => notMerged("resolveConfig"),
    configHash: () => notMerged("configHash"),
    initBackend: () => notMerged("initBackend"),
    trainModel: () => notMerged("trainModel"),
    scoreImages: () => notMerged("scoreImages"),
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
