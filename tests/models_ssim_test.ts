import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { gaussianWindow, ssimMap, ssimMean } from "../src/models/ssim.ts";
import { RandomStream } from "../src/util/rng.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

/** Direct SSIM at one pixel and channel: zero-padded 11×11 Gaussian moments, as pytorch_ssim. */
function directSsim(
  x: Float32Array,
  y: Float32Array,
  h: number,
  w: number,
  c: number,
  r: number,
  q: number,
  ch: number,
) {
  const win = gaussianWindow(11, 1.5);
  let mx = 0, my = 0, xx = 0, yy = 0, xy = 0;
  for (let i = 0; i < 11; i++) {
    for (let j = 0; j < 11; j++) {
      const rr = r + i - 5, qq = q + j - 5;
      if (rr < 0 || rr >= h || qq < 0 || qq >= w) continue; // zero padding
      const g = win[i * 11 + j];
      const a = x[(rr * w + qq) * c + ch], b = y[(rr * w + qq) * c + ch];
      mx += g * a;
      my += g * b;
      xx += g * a * a;
      yy += g * b * b;
      xy += g * a * b;
    }
  }
  const c1 = 0.01 ** 2, c2 = 0.03 ** 2;
  const sx = xx - mx * mx, sy = yy - my * my, sxy = xy - mx * my;
  return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sx + sy + c2));
}

Deno.test("gaussian window is normalised and symmetric", () => {
  const w = gaussianWindow(11, 1.5);
  assert.ok(Math.abs(w.reduce((a, b) => a + b, 0) - 1) < 1e-6);
  assert.equal(w[0], w[120]);
  assert.equal(w[5 * 11 + 5], Math.max(...w));
});

Deno.test("SSIM map matches a direct per-pixel computation with zero padding", async () => {
  await useCpu();
  const h = 13, w = 12, c = 2;
  const rng = RandomStream.derive(5, "noise");
  const x = rng.uniformArray(h * w * c, 0, 1);
  const y = Float32Array.from(x, (v) => Math.min(1, Math.max(-1, v + 0.3 * rng.normal())));
  const map = ssimMap(tf.tensor4d(x, [1, h, w, c]), tf.tensor4d(y, [1, h, w, c]));
  const got = await map.data();
  let sum = 0;
  for (let r = 0; r < h; r++) {
    for (let q = 0; q < w; q++) {
      for (let ch = 0; ch < c; ch++) {
        const expected = directSsim(x, y, h, w, c, r, q, ch);
        sum += expected;
        const actual = got[(r * w + q) * c + ch];
        assert.ok(Math.abs(actual - expected) < 2e-4, `pixel ${r},${q},${ch}: ${actual} vs ${expected}`);
      }
    }
  }
  const mean = ssimMean(tf.tensor4d(x, [1, h, w, c]), tf.tensor4d(y, [1, h, w, c]));
  assert.ok(Math.abs((await mean.data())[0] - sum / (h * w * c)) < 1e-4);
});

Deno.test("SSIM of an image with itself is 1", async () => {
  await useCpu();
  const x = tf.tensor4d(RandomStream.derive(1, "noise").uniformArray(16 * 16 * 3, 0, 1), [1, 16, 16, 3]);
  const value = (await ssimMean(x, x).data())[0];
  assert.ok(Math.abs(value - 1) < 1e-5, `${value}`);
});

Deno.test("mean SSIM's closed-form gradient equals autodiff of the SSIM map for both inputs", async () => {
  await useCpu();
  const x = tf.randomUniform([2, 17, 19, 3], 0, 1, "float32", 1);
  const y = tf.randomUniform([2, 17, 19, 3], 0, 1, "float32", 2);
  const fused = (a: tf.Tensor, b: tf.Tensor) => tf.mul(ssimMean(a as tf.Tensor4D, b as tf.Tensor4D), -0.5);
  const ops = (a: tf.Tensor, b: tf.Tensor) =>
    tf.mul(tf.mean(ssimMap(a as tf.Tensor4D, b as tf.Tensor4D)), -0.5);
  assert.equal(fused(x, y).dataSync()[0], ops(x, y).dataSync()[0]);
  const got = tf.grads(fused)([x, y]);
  const want = tf.grads(ops)([x, y]);
  got.forEach((g, i) => {
    const a = g.dataSync(), b = want[i].dataSync();
    const scale = Math.max(...b.map(Math.abs));
    b.forEach((v, j) =>
      assert.ok(Math.abs(a[j] - v) <= 1e-4 * scale, `input ${i} element ${j}: ${a[j]} vs ${v}`)
    );
  });
});
