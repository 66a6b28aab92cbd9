import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { batchNorm, type BatchNormStats } from "../src/models/layers.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

/** BatchNorm in training mode written as plain ops, differentiated by tfjs's autodiff. */
function batchNormOps(x: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor, eps = 1e-5): tf.Tensor {
  const mean = tf.mean(x, [0, 1, 2]);
  const centred = tf.sub(x, mean);
  const variance = tf.mean(tf.square(centred), [0, 1, 2]);
  return tf.add(tf.mul(tf.mul(centred, tf.rsqrt(tf.add(variance, eps))), gamma), beta);
}

Deno.test("training BatchNorm's closed-form gradient equals autodiff of the plain ops; forward is bit-identical", async () => {
  await useCpu();
  const x = tf.randomNormal([3, 5, 6, 4], 0.3, 2, "float32", 1);
  const gamma = tf.randomNormal([4], 1, 0.2, "float32", 2);
  const beta = tf.randomNormal([4], 0, 0.2, "float32", 3);
  const up = tf.randomNormal([3, 5, 6, 4], 0, 1, "float32", 4);
  const stats: BatchNormStats[] = [];
  const params = { gamma, beta, runningMean: tf.zeros([4]), runningVar: tf.ones([4]) };
  const fused = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
    batchNorm(x as tf.Tensor4D, { ...params, gamma: g, beta: b }, true, "bn", stats);
  assert.deepEqual(fused(x, gamma, beta).dataSync(), batchNormOps(x, gamma, beta).dataSync());
  type Layer = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.Tensor;
  const loss = (f: Layer) => (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(f(x, g, b), up));
  const a = tf.grads(loss(fused))([x, gamma, beta]);
  const b = tf.grads(loss(batchNormOps))([x, gamma, beta]);
  a.forEach((grad, i) => {
    const got = grad.dataSync(), want = b[i].dataSync();
    const scale = Math.max(...want.map(Math.abs));
    want.forEach((w, j) =>
      assert.ok(Math.abs(got[j] - w) <= 1e-5 * scale, `input ${i} element ${j}: ${got[j]} vs ${w}`)
    );
  });
  // Statistics: the biased mean and the unbiased variance (PyTorch's running update uses it), one entry
  // per call (the plain forward and the one inside tf.grads), kept for the caller.
  assert.equal(stats.length, 2);
  const n = 3 * 5 * 6;
  const ref = tf.moments(x, [0, 1, 2]);
  const mean = stats[0].mean.dataSync(), variance = stats[0].unbiasedVariance.dataSync();
  ref.mean.dataSync().forEach((m, c) => assert.ok(Math.abs(mean[c] - m) < 1e-5));
  ref.variance.dataSync().forEach((v, c) => assert.ok(Math.abs(variance[c] - v * n / (n - 1)) < 1e-4 * v));
  for (const s of stats) tf.dispose([s.mean, s.unbiasedVariance]);
});
