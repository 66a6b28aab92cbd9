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
import type { Network } from "../models/network.ts";
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
    const x = imagesToBatch(images.slice(start, start + batchSize));
    const { raws } = await forwardRawScores(model.network, x);
    x.dispose();
    results.push(...raws);
  }
  return results;
}

/** What {@linkcode forwardRawScores} returns. */
export interface ForwardResult {
  /** One entry per image of the batch. */
  raws: RawScores[];
  /** The reconstruction [B, H, W, 3] row-major (NHWC), when asked for. */
  recon: Float32Array | null;
}

/**
 * One forward pass in inference mode over a float32 NHWC batch in [0, 1], read back with the async data
 * API: the raw per-image scores and, with `keepRecon`, the reconstruction. `x` is not disposed.
 *
 * @example
 * ```ts
 * const { raws, recon } = await forwardRawScores(network, x, { keepRecon: true });
 * ```
 */
export async function forwardRawScores(
  network: Network,
  x: tf.Tensor4D,
  { keepRecon = false }: { keepRecon?: boolean } = {},
): Promise<ForwardResult> {
  const [count, height, width] = x.shape;
  const { errors, ssims, nll, recon } = tf.tidy(() => {
    const { recon, patchNll } = network.infer(x);
    return {
      errors: tf.mean(tf.squaredDifference(recon, x), 3),
      ssims: tf.mean(ssimMap(x, recon), 3),
      nll: patchNll ?? tf.zeros([0]),
      recon: keepRecon ? recon : tf.zeros([0]),
    };
  });
  const errorData = await errors.data() as Float32Array;
  const ssimData = await ssims.data() as Float32Array;
  const nllData = network.gridSize > 0 ? await nll.data() as Float32Array : null;
  const reconData = keepRecon ? await recon.data() as Float32Array : null;
  tf.dispose([errors, ssims, nll, recon]);
  const pixels = height * width;
  const patches = network.gridSize ** 2;
  const raws: RawScores[] = [];
  for (let i = 0; i < count; i++) {
    const errorMap = errorData.slice(i * pixels, (i + 1) * pixels);
    const ssim = ssimData.slice(i * pixels, (i + 1) * pixels);
    raws.push({
      mse: meanOf(errorMap),
      ssim: meanOf(ssim),
      patchNll: nllData ? nllData.slice(i * patches, (i + 1) * patches) : null,
      gridSize: network.gridSize,
      errorMap,
      ssimMap: ssim,
    });
  }
  return { raws, recon: reconData };
}

/** Mean in float64 (the channel-averaged maps keep the per-pixel/channel mean unchanged). */
function meanOf(values: Float32Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
