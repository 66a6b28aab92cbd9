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

/** The five Gaussian-blurred moment maps of SSIM: E[x], E[y], E[x²], E[y²], E[xy], each [B, H, W, C]. */
interface Moments {
  muX: tf.Tensor4D;
  muY: tf.Tensor4D;
  xx: tf.Tensor4D;
  yy: tf.Tensor4D;
  xy: tf.Tensor4D;
}

/**
 * Blurs a stack of maps with the normalised Gaussian window: a 1×n then an n×1 depthwise pass. The window
 * is the outer product g·gᵀ, so this equals the 2-D window up to float32 rounding (11× fewer multiplies),
 * and zero padding per pass equals 2-D zero padding. The operator is symmetric (symmetric taps, zero
 * padding, passes on different axes commute), so it is also its own adjoint.
 */
function blur(stacked: tf.Tensor4D, windowSize: number, sigma: number): tf.Tensor4D {
  const channels = stacked.shape[3];
  const g = gaussian1d(windowSize, sigma);
  const rowFilter = tf.tensor4d(repeatPerChannel(g, channels), [1, windowSize, channels, 1]);
  const colFilter = tf.tensor4d(repeatPerChannel(g, channels), [windowSize, 1, channels, 1]);
  return tf.depthwiseConv2d(tf.depthwiseConv2d(stacked, rowFilter, 1, "same"), colFilter, 1, "same");
}

function moments(x: tf.Tensor4D, y: tf.Tensor4D, windowSize: number, sigma: number): Moments {
  // Stacked along the batch axis: one blur call, then five contiguous slices.
  const stacked = tf.concat([x, y, tf.square(x), tf.square(y), tf.mul(x, y)], 0) as tf.Tensor4D;
  const [muX, muY, xx, yy, xy] = tf.split(blur(stacked, windowSize, sigma), 5, 0) as tf.Tensor4D[];
  return { muX, muY, xx, yy, xy };
}

/** The SSIM map's factors l·cs = A1·A2 / (B1·B2) from the moments. */
function ssimFactors(m: Moments, c1: number, c2: number) {
  const muX2 = tf.square(m.muX);
  const muY2 = tf.square(m.muY);
  const muXY = tf.mul(m.muX, m.muY);
  const sigmaX2 = tf.sub(m.xx, muX2);
  const sigmaY2 = tf.sub(m.yy, muY2);
  const sigmaXY = tf.sub(m.xy, muXY);
  const a1 = tf.add(tf.mul(muXY, 2), c1);
  const a2 = tf.add(tf.mul(sigmaXY, 2), c2);
  const b1 = tf.add(tf.add(muX2, muY2), c1);
  const b2 = tf.add(tf.add(sigmaX2, sigmaY2), c2);
  return { a1, a2, b1, b2, map: tf.div(tf.mul(a1, a2), tf.mul(b1, b2)) as tf.Tensor4D };
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
  return tf.tidy(() => ssimFactors(moments(x, y, windowSize, sigma), c1, c2).map);
}

/**
 * Mean SSIM over batch, pixels and channels (`size_average=True`), with a closed-form gradient.
 *
 * Autodiff through {@linkcode ssimMap} keeps ~20 full-size maps until the backward pass (≈ 200 MB for a
 * batch of 2 at 512²); this op keeps only x and y and recomputes the moments. With S = A1·A2/(B1·B2),
 * A1 = 2μxμy + C1, A2 = 2σxy + C2, B1 = μx² + μy² + C1, B2 = σx² + σy² + C2 and the blur 𝒢 (its own
 * adjoint):
 *   ∂S/∂μy = 2μx·(A2 − A1)/(B1B2) − 2μy·S·(1/B1 − 1/B2),  ∂S/∂E[y²] = −S/B2,  ∂S/∂E[xy] = 2A1/(B1B2),
 *   dL/dy = 𝒢[g_μy] + 2y·𝒢[g_yy] + x·𝒢[g_xy]   (g_• = upstream/N · ∂S/∂•), and symmetrically for x.
 */
export function ssimMean(x: tf.Tensor4D, y: tf.Tensor4D, options: SsimOptions = {}): tf.Scalar {
  const { windowSize = 11, sigma = 1.5, c1 = 0.01 ** 2, c2 = 0.03 ** 2 } = options;
  const op = tf.customGrad((xIn, yIn, save) => {
    const [a, b] = [xIn as tf.Tensor4D, yIn as tf.Tensor4D];
    (save as tf.GradSaveFunc)([a, b]);
    return {
      value: tf.mean(ssimFactors(moments(a, b, windowSize, sigma), c1, c2).map) as tf.Scalar,
      // tfjs calls a custom gradient outside any tidy scope: without this one, every intermediate of the
      // backward formula would live until the end of the whole backward pass.
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [xs, ys] = saved as tf.Tensor4D[];
          const m = moments(xs, ys, windowSize, sigma);
          const { a1, a2, b1, b2, map } = ssimFactors(m, c1, c2);
          const scale = tf.div(dy, xs.size);
          const inv = tf.div(scale, tf.mul(b1, b2));
          const sOverB1 = tf.mul(scale, tf.div(map, b1));
          const sOverB2 = tf.mul(scale, tf.div(map, b2));
          const diff = tf.mul(tf.sub(a2, a1), inv); // (A2 − A1)/(B1B2)
          const cross = tf.sub(sOverB1, sOverB2); // S·(1/B1 − 1/B2)
          const gMuX = tf.sub(tf.mul(tf.mul(m.muY, diff), 2), tf.mul(tf.mul(m.muX, cross), 2));
          const gMuY = tf.sub(tf.mul(tf.mul(m.muX, diff), 2), tf.mul(tf.mul(m.muY, cross), 2));
          const gSquare = tf.neg(sOverB2); // same for E[x²] and E[y²]
          const gXY = tf.mul(tf.mul(a1, inv), 2);
          const [bMuX, bMuY, bSquare, bXY] = tf.split(
            blur(tf.concat([gMuX, gMuY, gSquare, gXY], 0) as tf.Tensor4D, windowSize, sigma),
            4,
            0,
          );
          const dx = tf.add(tf.add(bMuX, tf.mul(tf.mul(xs, bSquare), 2)), tf.mul(ys, bXY));
          const dyOut = tf.add(tf.add(bMuY, tf.mul(tf.mul(ys, bSquare), 2)), tf.mul(xs, bXY));
          return [dx, dyOut];
        }),
    };
  });
  return op(x, y) as tf.Scalar;
}
