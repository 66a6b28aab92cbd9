/**
 * SSIM as the original's `pytorch_ssim` module computes it (docs/original-code.md §5): an 11×11
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
  const g = gaussian1d(size, sigma);
  const out = new Float32Array(size * size);
  for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) out[r * size + c] = g[r] * g[c];
  return out;
}

/** The normalised 1-D Gaussian exp(−(i − ⌊n/2⌋)²/(2σ²)) / Σ as float32 (pytorch_ssim's `gaussian`). */
export function gaussian1d(size = 11, sigma = 1.5): Float32Array {
  const g = new Float64Array(size);
  let sum = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - Math.floor(size / 2)) ** 2) / (2 * sigma * sigma));
    sum += g[i];
  }
  return Float32Array.from(g, (v) => v / sum);
}

function repeatPerChannel(taps: Float32Array, channels: number): Float32Array {
  const out = new Float32Array(taps.length * channels);
  for (let i = 0; i < taps.length; i++) out.fill(taps[i], i * channels, (i + 1) * channels);
  return out;
}

/**
 * Per-pixel, per-channel SSIM map of two NHWC batches of the same shape.
 *
 * The window is the outer product g·gᵀ, so the 2-D blur runs as a row pass then a column pass (11× fewer
 * multiplies; equal to the 2-D window up to float32 rounding; zero padding per pass equals 2-D zero
 * padding), and the five blurred maps (x, y, x², y², xy) share one depthwise call per pass.
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
    const g = gaussian1d(windowSize, sigma);
    const rowFilter = tf.tensor4d(repeatPerChannel(g, channels), [1, windowSize, channels, 1]);
    const colFilter = tf.tensor4d(repeatPerChannel(g, channels), [windowSize, 1, channels, 1]);
    // Stacked along the batch axis: the split afterwards is five contiguous slices.
    const stacked = tf.concat([x, y, tf.square(x), tf.square(y), tf.mul(x, y)], 0) as tf.Tensor4D;
    const blurred = tf.depthwiseConv2d(
      tf.depthwiseConv2d(stacked, rowFilter, 1, "same"),
      colFilter,
      1,
      "same",
    );
    const [muX, muY, xx, yy, xy] = tf.split(blurred, 5, 0);
    const muX2 = tf.square(muX);
    const muY2 = tf.square(muY);
    const muXY = tf.mul(muX, muY);
    const sigmaX2 = tf.sub(xx, muX2);
    const sigmaY2 = tf.sub(yy, muY2);
    const sigmaXY = tf.sub(xy, muXY);
    const numerator = tf.mul(tf.add(tf.mul(muXY, 2), c1), tf.add(tf.mul(sigmaXY, 2), c2));
    const denominator = tf.mul(tf.add(tf.add(muX2, muY2), c1), tf.add(tf.add(sigmaX2, sigmaY2), c2));
    return tf.div(numerator, denominator) as tf.Tensor4D;
  });
}

/** Mean SSIM over batch, pixels and channels (`size_average=True`). */
export function ssimMean(x: tf.Tensor4D, y: tf.Tensor4D, options: SsimOptions = {}): tf.Scalar {
  return tf.tidy(() => tf.mean(ssimMap(x, y, options)) as tf.Scalar);
}
