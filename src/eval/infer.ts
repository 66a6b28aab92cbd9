/**
 * Inference with given weights, as the original `test.py` computes it (`docs/original-code.md` §7 and
 * §12): the network in eval mode (no training noise, BatchNorm on its running statistics), one image at a
 * time, and for each image the reconstruction, the per-patch NLL, the anomaly map (patch NLL upsampled
 * with aligned corners, then Gaussian-filtered with σ = `heatmapSigma`) and the image score (test.py:143:
 * MSE + SSIM + max patch NLL under the `code` flags).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Network } from "../models/network.ts";
import { forwardRawScores } from "../train/score.ts";
import { defaultImageScore, heatmapSigmaOf, type ImageScoreName, modelOf } from "../core/models.ts";
import { imageScore } from "./image_score.ts";
import { anomalyMap } from "./evaluate.ts";

/** A float32 NHWC image batch in [0, 1]. */
export interface ImageBatch {
  /** [B, H, W, C], C = 3 (or 1: replicated to 3 channels as test.py:71-72 does). */
  shape: [number, number, number, number];
  data: Float32Array;
}

/** Everything {@linkcode inferImages} computes, row-major. */
export interface InferenceResult {
  /** [B, H, W, 3]: the reconstruction (tanh output, in (−1, 1)). */
  recon: Float32Array;
  /** [B, N]: per-patch NLL in raster order (VT-ADL); empty for models without an MDN. */
  patchNll: Float32Array;
  /** Patches per image N (0 without an MDN). */
  patches: number;
  /** [B, H, W]: the pixel anomaly map. */
  anomalyMap: Float32Array;
  /** [B]: the image anomaly score. */
  imageScore: Float64Array;
  /** [B]: the two reconstruction terms of the score, MSE and SSIM. */
  mse: Float64Array;
  ssim: Float64Array;
  /** The image-score variant and heat-map σ used. */
  imageScoreVariant: ImageScoreName;
  heatmapSigma: number;
}

/** Options of {@linkcode inferImages}. */
export interface InferOptions {
  /** Image score. Default: the config's (`code`: MSE + SSIM + max NLL, test.py:143). */
  imageScore?: ImageScoreName;
  /** Gaussian σ of the heat map. Default: the config's `heatmapSigma` (4 under `code`). */
  heatmapSigma?: number;
  /** Called after each image. */
  onImage?: (done: number, total: number) => void;
}

/** Checks the batch against the network: size, channels, finite values in [0, 1]. */
function checkBatch(network: Network, batch: ImageBatch): void {
  const [b, h, w, c] = batch.shape;
  const size = network.config.imageSize;
  if (batch.shape.length !== 4 || b < 1) {
    throw new RangeError(`images must be [B, H, W, C] with B ≥ 1, got (${batch.shape.join(", ")})`);
  }
  if (h !== size || w !== size || (c !== 3 && c !== 1)) {
    throw new RangeError(
      `images are ${h}×${w}×${c}, config '${network.config.name}' needs ${size}×${size}×3 (or ×1, replicated): resize and centre-crop first`,
    );
  }
  if (batch.data.length !== b * h * w * c) {
    throw new RangeError(
      `images hold ${batch.data.length} values, shape (${batch.shape.join(", ")}) needs ${b * h * w * c}`,
    );
  }
  for (let i = 0; i < batch.data.length; i++) {
    const v = batch.data[i];
    if (!(v >= 0 && v <= 1)) {
      const image = Math.floor(i / (h * w * c));
      throw new RangeError(
        `image ${image} holds ${v} at element ${i}: inputs must be in [0, 1] (test.py feeds ToTensor() output; divide 8-bit pixels by 255)`,
      );
    }
  }
}

/** One image of the batch as a [1, H, W, 3] tensor (grey replicated). */
function imageTensor(batch: ImageBatch, index: number): tf.Tensor4D {
  const [, h, w, c] = batch.shape;
  const per = h * w * c;
  const pixels = batch.data.subarray(index * per, (index + 1) * per);
  if (c === 3) return tf.tensor4d(pixels, [1, h, w, 3]);
  const rgb = new Float32Array(h * w * 3);
  for (let p = 0; p < h * w; p++) rgb[3 * p] = rgb[3 * p + 1] = rgb[3 * p + 2] = pixels[p];
  return tf.tensor4d(rgb, [1, h, w, 3]);
}

/**
 * Runs the network on each image separately and returns reconstructions, patch NLLs, anomaly maps and
 * image scores as test.py computes them. The network must already hold the weights to evaluate.
 *
 * @example
 * ```ts
 * const result = await inferImages(network, { shape: [1, 512, 512, 3], data });
 * result.imageScore[0]; // MSE + SSIM + max patch NLL
 * ```
 */
export async function inferImages(
  network: Network,
  batch: ImageBatch,
  options: InferOptions = {},
): Promise<InferenceResult> {
  checkBatch(network, batch);
  const variant = options.imageScore ?? defaultImageScore(network.config);
  const sigma = options.heatmapSigma ?? heatmapSigmaOf(network.config);
  const [b, h, w] = batch.shape;
  const patches = network.gridSize ** 2;
  const result: InferenceResult = {
    recon: new Float32Array(b * h * w * 3),
    patchNll: new Float32Array(b * patches),
    patches,
    anomalyMap: new Float32Array(b * h * w),
    imageScore: new Float64Array(b),
    mse: new Float64Array(b),
    ssim: new Float64Array(b),
    imageScoreVariant: variant,
    heatmapSigma: sigma,
  };
  const kind = modelOf(network.config).anomalyMap;
  for (let i = 0; i < b; i++) {
    const x = imageTensor(batch, i);
    const { raws: [raw], recon } = await forwardRawScores(network, x, { keepRecon: true });
    x.dispose();
    result.recon.set(recon!, i * h * w * 3);
    if (raw.patchNll) result.patchNll.set(raw.patchNll, i * patches);
    result.anomalyMap.set(anomalyMap(raw, kind, w, h, { sigma }).data, i * h * w);
    result.mse[i] = raw.mse;
    result.ssim[i] = raw.ssim;
    result.imageScore[i] = imageScore(raw, variant);
    options.onImage?.(i + 1, b);
  }
  return result;
}
