/**
 * The building blocks of both networks as plain functions on tfjs-core tensors (there is no tfjs-layers
 * here): dense, LayerNorm, exact GELU, transposed convolution with PyTorch-style cropping, BatchNorm,
 * squash. Shapes are NHWC for images.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** x[..., in] · w[in, out] (+ b[out]), for inputs of any rank ≥ 2. */
export function dense(x: tf.Tensor, w: tf.Tensor, b?: tf.Tensor): tf.Tensor {
  const shape = x.shape;
  const inDim = shape[shape.length - 1];
  const flat = tf.reshape(x, [-1, inDim]) as tf.Tensor2D;
  let y: tf.Tensor = tf.matMul(flat, w as tf.Tensor2D);
  if (b) y = tf.add(y, b);
  return tf.reshape(y, [...shape.slice(0, -1), w.shape[1] as number]);
}

/** LayerNorm over the last axis with biased variance (PyTorch nn.LayerNorm, eps 1e-5). */
export function layerNorm(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  const axis = x.rank - 1;
  const mean = tf.mean(x, axis, true);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), axis, true);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

/** GELU with the exact erf form (PyTorch nn.GELU default): 0.5·x·(1 + erf(x/√2)). */
export function geluErf(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** One transposed convolution as PyTorch's ConvTranspose2d(k, stride, padding=crop): valid + crop. */
export interface ConvTransposeSpec {
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  /** Pixels removed from every side after the 'valid' transposed convolution (PyTorch `padding`). */
  crop: number;
}

/** Output side of a {@linkcode ConvTransposeSpec}: (in − 1)·s + k − 2·crop. */
export function convTransposeOutSize(spec: ConvTransposeSpec, inSize: number): number {
  return (inSize - 1) * spec.stride + spec.kernel - 2 * spec.crop;
}

/**
 * PyTorch ConvTranspose2d on NHWC input: tfjs 'valid' gives (in − 1)·s + k; PyTorch's padding p then
 * removes p pixels per side (docs/original-code.md §3). Filter [k, k, cout, cin], bias [cout].
 */
export function convTranspose(
  x: tf.Tensor4D,
  spec: ConvTransposeSpec,
  w: tf.Tensor,
  b: tf.Tensor,
): tf.Tensor4D {
  const [batch, height, width] = x.shape;
  // tfjs's numeric `pad` is the padding of the forward convolution, i.e. PyTorch's output crop.
  const y = tf.conv2dTranspose(
    x,
    w as tf.Tensor4D,
    [batch, convTransposeOutSize(spec, height), convTransposeOutSize(spec, width), spec.cout],
    [spec.stride, spec.stride],
    spec.crop === 0 ? "valid" : spec.crop,
  );
  return tf.add(y, b);
}

/** Batch statistics of one BatchNorm call in training mode, to fold into its running statistics. */
export interface BatchNormStats {
  /** Logical name prefix of the BatchNorm (its state is `<name>.mean` / `<name>.var`). */
  name: string;
  mean: tf.Tensor;
  /** Unbiased variance (PyTorch updates running_var with it). */
  unbiasedVariance: tf.Tensor;
}

/**
 * BatchNorm2d over N, H, W (PyTorch: eps 1e-5). Training mode normalises with the batch's biased variance
 * and reports the statistics for the running update (the caller disposes them); inference uses the
 * running mean and variance.
 *
 * Training mode is one custom-gradient op: its forward is the op sequence mean → centre → variance →
 * scale → shift, and its backward the closed form
 *   dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ · x̂)),  dx̂ = dy · γ,  dγ = Σ dy · x̂,  dβ = Σ dy,
 * recomputing x̂ from the saved input. Written as separate ops, autodiff keeps every intermediate of the
 * forward (centred, squared, normalised, scaled: 6 tensors of the activation's size) until the backward
 * pass; the `code` decoder's 497² layer alone held 270 MB per batch of 2 that way.
 */
export function batchNorm(
  x: tf.Tensor4D,
  params: { gamma: tf.Tensor; beta: tf.Tensor; runningMean: tf.Tensor; runningVar: tf.Tensor },
  training: boolean,
  name: string,
  stats: BatchNormStats[],
  eps = 1e-5,
): tf.Tensor4D {
  if (!training) {
    return tf.batchNorm(
      x,
      params.runningMean,
      params.runningVar,
      params.beta,
      params.gamma,
      eps,
    ) as tf.Tensor4D;
  }
  const axes = [0, 1, 2];
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  const normalise = tf.customGrad((input, gamma, beta, save) => {
    const xIn = input as tf.Tensor4D;
    const mean = tf.mean(xIn, axes);
    const centred = tf.sub(xIn, mean);
    const variance = tf.mean(tf.square(centred), axes);
    const rstd = tf.rsqrt(tf.add(variance, eps));
    stats.push({
      name,
      mean: tf.keep(mean),
      unbiasedVariance: tf.keep(tf.mul(variance, n / Math.max(n - 1, 1))),
    });
    (save as tf.GradSaveFunc)([xIn, mean, rstd, gamma as tf.Tensor]);
    return {
      value: tf.add(tf.mul(tf.mul(centred, rstd), gamma as tf.Tensor), beta as tf.Tensor),
      // Tidy: tfjs calls custom gradients outside any scope (see ssim.ts).
      gradFunc: (dy, saved) =>
        tf.tidy(() => {
          const [xs, mu, r, g] = saved;
          const grad = dy as tf.Tensor4D;
          const xhat = tf.mul(tf.sub(xs, mu), r);
          const dxhat = tf.mul(grad, g);
          const dx = tf.mul(
            tf.sub(tf.sub(dxhat, tf.mean(dxhat, axes)), tf.mul(xhat, tf.mean(tf.mul(dxhat, xhat), axes))),
            r,
          );
          return [dx, tf.sum(tf.mul(grad, xhat), axes), tf.sum(grad, axes)];
        }),
    };
  });
  return normalise(x, params.gamma, params.beta) as tf.Tensor4D;
}

/** PyTorch's running-statistics update: r ← (1 − m)·r + m·batch, momentum m = 0.1. */
export function updateRunningStat(running: tf.Variable, batch: tf.Tensor, momentum = 0.1): void {
  tf.tidy(() => running.assign(tf.add(tf.mul(running, 1 - momentum), tf.mul(batch, momentum))));
}

/**
 * Capsule squash over the last axis: ‖s‖²·s / ((1 + ‖s‖²)·√(‖s‖² + ε)) (spatial.py:112-115, where ε = 0).
 */
export function squash(s: tf.Tensor, epsilon: number): tf.Tensor {
  const n2 = tf.sum(tf.square(s), -1, true);
  return tf.div(tf.mul(n2, s), tf.mul(tf.add(n2, 1), tf.sqrt(tf.add(n2, epsilon))));
}
