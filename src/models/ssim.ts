/**
 * SSIM as the original's `pytorch_ssim` module computes it (docs/vtadl-original-code.md §5): an 11×11
 * normalised Gaussian window with σ = 1.5 applied depthwise per channel with zero padding 'same', C1 =
 * 0.01², C2 = 0.03² (data range 1), and the plain mean of the map. `tf.image` has no equivalent (TF's
 * ssim uses 'valid' filtering).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** SSIM constants and window. */
export interface SsimOptions {
  /** Window side (odd). Default 11. */
  windowSize?: number;
  /** Gaussian σ. Default 1.5. */
  sigma?: number;
  /** Default 0.01². */
  c1?: number;
  /** Default 0.03². */
  c2?: number;
}

/**
 * The 2-D window: outer product of the normalised 1-D Gaussian exp(−(i − ⌊n/2⌋)²/(2σ²)), row-major n×n.
 *
 * @example
 * ```ts
 * gaussianWindow(11, 1.5).length; // 121
 * ```
 */
export function gaussianWindow(size = 11, sigma = 1.5): Float32Array {
  const g = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - Math.floor(size / 2)) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  const g32 = Float32Array.from(g, (v) => v / sum);
  const out = new Float32Array(size * size);
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) out[r * size + c] = g32[r] * g32[c];
  return out;
}

/**
 * Per-pixel, per-channel SSIM map of two NHWC batches of the same shape.
 *
 * @example
 * ```ts
 * const map = ssimMap(x, recon); // [B, H, W, C]
 * ```
 */
export function ssimMap(x: tf.Tensor4D, y: tf.Tensor4D, options: SsimOptions = {}): tf.Tensor4D {
  const { windowSize = 11, sigma = 1.5, c1 = 0.01 ** 2, c2 = 0.03 ** 2 } = options;
  return tf.tidy(() => {
    const channels = x.shape[3];
    const w = gaussianWindow(windowSize, sigma);
    const filterValues = new Float32Array(windowSize * windowSize * channels);
    for (let i = 0; i < w.length; i++) {
      for (let c = 0; c < channels; c++) filterValues[i * channels + c] = w[i];
    }
    const filter = tf.tensor4d(filterValues, [windowSize, windowSize, channels, 1]);
    const blur = (t: tf.Tensor4D) => tf.depthwiseConv2d(t, filter, 1, "same");
    const muX = blur(x);
    const muY = blur(y);
    const muX2 = tf.square(muX);
    const muY2 = tf.square(muY);
    const muXY = tf.mul(muX, muY);
    const sigmaX2 = tf.sub(blur(tf.square(x)), muX2);
    const sigmaY2 = tf.sub(blur(tf.square(y)), muY2);
    const sigmaXY = tf.sub(blur(tf.mul(x, y)), muXY);
    const numerator = tf.mul(tf.add(tf.mul(muXY, 2), c1), tf.add(tf.mul(sigmaXY, 2), c2));
    const denominator = tf.mul(tf.add(tf.add(muX2, muY2), c1), tf.add(tf.add(sigmaX2, sigmaY2), c2));
    return tf.div(numerator, denominator) as tf.Tensor4D;
  });
}

/** Mean SSIM over batch, pixels and channels (`size_average=True`). */
export function ssimMean(x: tf.Tensor4D, y: tf.Tensor4D, options: SsimOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(ssimMap(x, y, options)) as tf.Scalar);
}
