import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { RandomStream } from "../src/util/rng.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";
import "../src/train/gradients.ts";

const rng = RandomStream.derive(3, "noise");

/** dL/dW for L = Σ conv2d(x, W)·r, from the definition, with tfjs's padding. */
function directConvFilterGrad(
  x: Float32Array,
  r: Float32Array,
  xs: [number, number, number, number],
  fs: [number, number, number, number],
  stride: number,
  pad: "same" | "valid",
): Float64Array {
  const info = tf.backend_util.computeConv2DInfo(xs, fs, stride, 1, pad);
  const [b, h, w, ci] = xs;
  const [kh, kw, , co] = fs;
  const out = new Float64Array(kh * kw * ci * co);
  for (let n = 0; n < b; n++) {
    for (let oy = 0; oy < info.outHeight; oy++) {
      for (let ox = 0; ox < info.outWidth; ox++) {
        for (let i = 0; i < kh; i++) {
          for (let j = 0; j < kw; j++) {
            const y = oy * stride + i - info.padInfo.top, xx = ox * stride + j - info.padInfo.left;
            if (y < 0 || y >= h || xx < 0 || xx >= w) continue;
            for (let c = 0; c < ci; c++) {
              for (let o = 0; o < co; o++) {
                out[((i * kw + j) * ci + c) * co + o] += x[((n * h + y) * w + xx) * ci + c] *
                  r[((n * info.outHeight + oy) * info.outWidth + ox) * co + o];
              }
            }
          }
        }
      }
    }
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(
      Math.abs(actual[i] - expected[i]) < 1e-3 * (1 + Math.abs(expected[i])),
      `${what}[${i}]: ${actual[i]} vs ${expected[i]}`,
    );
  }
}

for (const [k, stride, pad] of [[3, 1, "same"], [4, 2, "same"], [4, 1, "same"], [3, 2, "valid"]] as const) {
  Deno.test(`conv2d filter gradient on cpu matches the definition (k${k}, stride ${stride}, ${pad})`, async () => {
    await useCpu();
    const xs: [number, number, number, number] = [2, 9, 8, 3];
    const fs: [number, number, number, number] = [k, k, 3, 4];
    const x = rng.normalArray(xs.reduce((a, b) => a * b), 1);
    const w = tf.tensor4d(rng.normalArray(fs.reduce((a, b) => a * b), 1), fs);
    const outShape = tf.conv2d(tf.zeros(xs) as tf.Tensor4D, w, stride, pad).shape;
    const r = rng.normalArray(outShape.reduce((a, b) => a * b), 1);
    const grad = tf.grad((f: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(tf.tensor4d(x, xs), f as tf.Tensor4D, stride, pad), tf.tensor(r, outShape)))
    );
    assertClose(await grad(w).data(), directConvFilterGrad(x, r, xs, fs, stride, pad), "dW");
  });
}

for (const [k, stride] of [[3, 2], [9, 3], [4, 2]] as const) {
  Deno.test(`conv2dTranspose filter gradient on cpu matches the definition (k${k}, stride ${stride}, valid)`, async () => {
    await useCpu();
    const inShape: [number, number, number, number] = [2, 4, 5, 3]; // convT input (conv output), 3 channels
    const cout = 2;
    const outH = (4 - 1) * stride + k, outW = (5 - 1) * stride + k;
    const fs: [number, number, number, number] = [k, k, cout, 3];
    const x = rng.normalArray(2 * 4 * 5 * 3, 1);
    const w = tf.tensor4d(rng.normalArray(k * k * cout * 3, 1), fs);
    const r = rng.normalArray(2 * outH * outW * cout, 1);
    const grad = tf.grad((f: tf.Tensor) =>
      tf.sum(tf.mul(
        tf.conv2dTranspose(tf.tensor4d(x, inShape), f as tf.Tensor4D, [2, outH, outW, cout], stride, "valid"),
        tf.tensor(r, [2, outH, outW, cout]),
      ))
    );
    // y = convT(x) ⇔ x = conv(y)ᵀ: dL/dW[i, j, o, c] = Σ r[b, iy·s + i, ix·s + j, o]·x[b, iy, ix, c].
    const expected = directConvFilterGrad(r, x, [2, outH, outW, cout], [k, k, cout, 3], stride, "valid");
    assertClose(await grad(w).data(), expected, "dW");
  });
}

Deno.test("backprop frees each intermediate gradient once its producer has used it", async () => {
  await useCpu();
  const size = 250_000; // 1 MB per tensor
  const x = tf.randomNormal([size], 0, 1, "float32", 1);
  let bytesAtBottom = 0;
  // An identity whose gradient records the live bytes when backprop reaches the bottom of the chain.
  const probe = tf.customGrad((input, save) => {
    (save as tf.GradSaveFunc)([]);
    return {
      value: tf.clone(input as tf.Tensor),
      gradFunc: (dy) => {
        bytesAtBottom = tf.memory().numBytes;
        return [tf.clone(dy as tf.Tensor)];
      },
    };
  });
  const layers = 20;
  const factors = Array.from({ length: layers }, (_, i) => tf.fill([size], 1 + i / 100));
  const before = tf.memory().numBytes;
  const grad = tf.grad((input: tf.Tensor) => {
    let h = probe(input) as tf.Tensor;
    for (const factor of factors) h = tf.mul(h, factor);
    return tf.sum(h);
  })(x);
  grad.dispose();
  // What the forward saves for the backward takes 2 MB per layer here (measured: 43 MB in all);
  // keeping the gradients of the 20 intermediate products to the end adds 1 MB per layer (63 MB).
  assert.ok(bytesAtBottom > 0, "the probe's gradient ran");
  const liveMb = (bytesAtBottom - before) / (size * 4);
  assert.ok(liveMb <= 2 * layers + 4, `live at the bottom of backprop: ${liveMb} MB`);
  tf.dispose([x, ...factors]);
});
