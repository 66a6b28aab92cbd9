/**
 * Forward-only raw per-image quantities from a trained model (no training noise, BatchNorm on running
 * statistics, as test.py). Turning them into image scores and heat maps (the `imageScoreSsim`,
 * `imageScore` and `heatmapSigma` flags) is the evaluation's job.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { ImageSample } from "../datasets/types.ts";
import { ssimMap } from "../models/ssim.ts";
import { imagesToBatch, type TrainedModel } from "./trainer.ts";

/** Raw scores of one image. */
export interface RawScores {
  /** Mean over pixels and channels of (recon − x)². */
  mse: number;
  /** SSIM(x, recon) as the original module: mean of the 11×11 Gaussian SSIM map. */
  ssim: number;
  /** VT-ADL: per-patch NLL, row-major gridSize×gridSize; null for autoencoders. */
  patchNll: Float32Array | null;
  /** Patches per side (0 for autoencoders). */
  gridSize: number;
  /** H×W per-pixel squared error averaged over channels. */
  errorMap: Float32Array;
  /** H×W per-pixel SSIM averaged over channels. */
  ssimMap: Float32Array;
}

/** Options of {@linkcode scoreImages}. */
export interface ScoreOptions {
  /** Images per forward pass. Default: the config's batch size. */
  batchSize?: number;
}

/**
 * Scores images with a trained model, batch by batch, reading results with the async data API.
 *
 * @example
 * ```ts
 * const scores = await scoreImages(model, split.test);
 * const maxNll = Math.max(...scores[0].patchNll!);
 * ```
 */
export async function scoreImages(
  model: TrainedModel,
  images: ImageSample[],
  options: ScoreOptions = {},
): Promise<RawScores[]> {
  const { batchSize = model.config.batchSize } = options;
  const size = model.config.imageSize;
  for (const img of images) {
    if (img.width !== size || img.height !== size) {
      throw new Error(
        `image ${img.path} is ${img.width}×${img.height}, model ${model.config.name} needs ${size}×${size}`,
      );
    }
  }
  const results: RawScores[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const batch = images.slice(start, start + batchSize);
    const { errors, ssims, nll } = tf.tidy(() => {
      const x = imagesToBatch(batch);
      const { recon, patchNll } = model.network.infer(x);
      return {
        errors: tf.mean(tf.squaredDifference(recon, x), 3),
        ssims: tf.mean(ssimMap(x, recon), 3),
        nll: patchNll ?? tf.zeros([0]),
      };
    });
    const errorData = await errors.data() as Float32Array;
    const ssimData = await ssims.data() as Float32Array;
    const nllData = model.network.gridSize > 0 ? await nll.data() as Float32Array : null;
    tf.dispose([errors, ssims, nll]);
    const pixels = size * size;
    const patches = model.network.gridSize ** 2;
    batch.forEach((_, i) => {
      const errorMap = errorData.slice(i * pixels, (i + 1) * pixels);
      const ssim = ssimData.slice(i * pixels, (i + 1) * pixels);
      results.push({
        mse: meanOf(errorMap),
        ssim: meanOf(ssim),
        patchNll: nllData ? nllData.slice(i * patches, (i + 1) * patches) : null,
        gridSize: model.network.gridSize,
        errorMap,
        ssimMap: ssim,
      });
    });
  }
  return results;
}

/** Mean in float64 (the channel-averaged maps keep the per-pixel/channel mean unchanged). */
function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
