import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { Adam } from "../src/train/adam.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

/** PyTorch Adam (single tensor, coupled weight decay) in float64 for one scalar parameter. */
function pytorchAdam(
  theta: number,
  grads: number[],
  o: { lr: number; b1: number; b2: number; eps: number; wd: number },
) {
  let m = 0, v = 0;
  grads.forEach((g0, i) => {
    const t = i + 1;
    const g = g0 + o.wd * theta;
    m = o.b1 * m + (1 - o.b1) * g;
    v = o.b2 * v + (1 - o.b2) * g * g;
    const denom = Math.sqrt(v) / Math.sqrt(1 - o.b2 ** t) + o.eps;
    theta -= (o.lr / (1 - o.b1 ** t)) * m / denom;
  });
  return theta;
}

const options = { learningRate: 0.1, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 0.01 };
const ref = { lr: 0.1, b1: 0.9, b2: 0.999, eps: 1e-8, wd: 0.01 };

Deno.test("Adam with coupled weight decay follows PyTorch's update", async () => {
  await useCpu();
  const p = tf.variable(tf.tensor1d([0.5, -2]));
  const adam = new Adam([{ name: "p", variable: p, accumulate: false }], options);
  const grads = [[0.3, 1], [-0.2, 0.5], [0.1, -1]];
  for (const g of grads) {
    const t = tf.tensor1d(g);
    adam.apply([t]);
    t.dispose();
  }
  const got = await p.data();
  assert.ok(Math.abs(got[0] - pytorchAdam(0.5, grads.map((g) => g[0]), ref)) < 1e-5);
  assert.ok(Math.abs(got[1] - pytorchAdam(-2, grads.map((g) => g[1]), ref)) < 1e-5);
  assert.equal(adam.step, 3);
  adam.dispose();
  p.dispose();
});

Deno.test("accumulating parameters step on the running sum of gradients (never zeroed)", async () => {
  await useCpu();
  const p = tf.variable(tf.tensor1d([1]));
  const adam = new Adam([{ name: "p", variable: p, accumulate: true }], options);
  for (const g of [0.5, 0.5, -2]) {
    const t = tf.tensor1d([g]);
    adam.apply([t]);
    t.dispose();
  }
  // PyTorch sees the sums 0.5, 1.0, -1.0 (train.py never calls zero_grad on the MDN).
  const expected = pytorchAdam(1, [0.5, 1.0, -1.0], ref);
  assert.ok(Math.abs((await p.data())[0] - expected) < 1e-5);
  assert.deepEqual(adam.stateTensors().map((s) => s.name), ["p/m", "p/v", "p/acc"]);
  adam.dispose();
  p.dispose();
});
