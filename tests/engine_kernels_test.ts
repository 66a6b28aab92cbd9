/**
 * The onnxruntime engine's kernels against tfjs-cpu: every overridden kernel on random shapes, including
 * the `code` decoder's odd kernel/stride/crop combinations, forward and gradients.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../src/train/gradients.ts";
import { initBackend } from "../src/train/backend.ts";

await initBackend("onnxruntime");

/** Relative error max|a − b| / max|b| (b the tfjs-cpu reference). */
function relativeError(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length, "lengths differ");
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Runs `f` on cpu and on onnxruntime with the same inputs; every output agrees within `tolerance`. */
async function agrees(name: string, f: () => tf.Tensor[], tolerance = 1e-4): Promise<void> {
  const outputs: Record<string, { shape: number[]; data: Float32Array }[]> = {};
  for (const backend of ["cpu", "onnxruntime"]) {
    await tf.setBackend(backend);
    const before = tf.memory().numTensors;
    const result = tf.tidy(f);
    outputs[backend] = result.map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    tf.dispose(result);
    assert.equal(tf.memory().numTensors, before, `${name}: tensors leaked on ${backend}`);
  }
  outputs.cpu.forEach((ref, i) => {
    const got = outputs.onnxruntime[i];
    assert.deepEqual(got.shape, ref.shape, `${name} output ${i}: shape`);
    const err = relativeError(got.data, ref.data);
    assert.ok(err <= tolerance, `${name} output ${i}: relative error ${err}`);
  });
}

const rand = (shape: number[], seed: number) => tf.randomUniform(shape, -1, 1, "float32", seed);

Deno.test("conv2d, its input and filter gradients match tfjs-cpu (same/valid/explicit pads, strides 1–3)", async () => {
  const cases: [number[], number[], number, "same" | "valid" | number][] = [
    [[2, 9, 9, 3], [3, 3, 3, 4], 1, "same"],
    [[2, 10, 11, 3], [4, 4, 3, 5], 2, "same"],
    [[1, 15, 15, 4], [9, 9, 4, 2], 3, "valid"],
    [[2, 8, 8, 1], [3, 3, 1, 1], 2, 1],
    [[2, 16, 16, 8], [8, 8, 8, 6], 1, "valid"],
  ];
  for (const [xShape, fShape, stride, pad] of cases) {
    await agrees(`conv2d ${xShape} ${fShape} s${stride} ${pad}`, () => {
      const x = rand(xShape, 1), f = rand(fShape, 2);
      const weight = rand([1], 3);
      const loss = (x: tf.Tensor, f: tf.Tensor) =>
        tf.sum(tf.mul(tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), weight));
      return [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, stride, pad), ...tf.grads(loss)([x, f])];
    });
  }
});

Deno.test("transposed convolutions with the code decoder's kernels, strides and crops match tfjs-cpu", async () => {
  // (input side, cin, cout, kernel, stride, crop): model_res18.py's six layers at reduced sizes, plus the
  // stride2 rule of the smaller configs.
  const layers = [
    [8, 8, 16, 3, 2, 1],
    [15, 16, 32, 9, 3, 1],
    [12, 4, 6, 7, 5, 1],
    [20, 6, 4, 9, 2, 0],
    [17, 4, 3, 6, 1, 0],
    [14, 3, 3, 11, 1, 0],
    [7, 5, 3, 4, 2, 1],
    [9, 4, 3, 3, 1, 1],
  ];
  for (const [n, cin, cout, k, s, crop] of layers) {
    const out = (n - 1) * s + k - 2 * crop;
    await agrees(`conv2dTranspose ${n}→${out} ${cin}→${cout} k${k} s${s} crop${crop}`, () => {
      const x = rand([2, n, n, cin], 4), w = rand([k, k, cout, cin], 5), up = rand([2, out, out, cout], 6);
      const pad = crop === 0 ? "valid" : crop;
      const forward = (x: tf.Tensor, w: tf.Tensor) =>
        tf.conv2dTranspose(x as tf.Tensor4D, w as tf.Tensor4D, [2, out, out, cout], s, pad);
      const loss = (x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(forward(x, w), up));
      return [forward(x, w), ...tf.grads(loss)([x, w])];
    });
  }
});

Deno.test("depthwise convolutions (SSIM's separable 11-tap blur) and their input gradient match tfjs-cpu", async () => {
  await agrees("depthwise 1×11 then 11×1, same", () => {
    const x = rand([5, 20, 21, 3], 7), row = rand([1, 11, 3, 1], 8), col = rand([11, 1, 3, 1], 9);
    const blur = (x: tf.Tensor) =>
      tf.depthwiseConv2d(
        tf.depthwiseConv2d(x as tf.Tensor4D, row as tf.Tensor4D, 1, "same"),
        col as tf.Tensor4D,
        1,
        "same",
      );
    return [blur(x), tf.grad((x: tf.Tensor) => tf.sum(tf.square(blur(x))))(x)];
  });
  await agrees("depthwise 3×3 multiplier 2, stride 2", () => {
    const x = rand([2, 12, 12, 4], 10), f = rand([3, 3, 4, 2], 11);
    const conv = (x: tf.Tensor) => tf.depthwiseConv2d(x as tf.Tensor4D, f as tf.Tensor4D, 2, "same");
    return [conv(x), tf.grad((x: tf.Tensor) => tf.sum(tf.square(conv(x))))(x)];
  });
});

Deno.test("batched matrix products with transposes and broadcast batches match tfjs-cpu", async () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[5, 7], [7, 3], false, false],
    [[7, 5], [3, 7], true, true],
    [[2, 4, 50, 32], [2, 4, 50, 32], false, true],
    [[2, 4, 50, 50], [2, 4, 50, 32], false, false],
    [[392, 128], [128, 1280], false, false],
    [[3, 5, 6], [6, 4], false, false],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    await agrees(`matMul ${aShape} ${bShape} ${ta} ${tb}`, () => {
      const a = rand(aShape, 12), b = rand(bShape, 13);
      const out = [tf.matMul(a, b, ta, tb)];
      if (aShape.length === bShape.length) {
        out.push(
          ...tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.square(tf.matMul(a, b, ta, tb))))([a, b]),
        );
      }
      return out;
    });
  }
});

Deno.test("elementwise ops, reductions, softmax and layout kernels match tfjs-cpu on large tensors", async () => {
  await agrees("elementwise with broadcasting", () => {
    const x = rand([6, 40, 40, 8], 14), b = rand([8], 15), y = rand([6, 40, 40, 8], 16);
    const positive = tf.add(tf.abs(x), 0.5);
    return [
      tf.add(x, b),
      tf.sub(b, x),
      tf.mul(x, 0.3),
      tf.div(x, tf.add(tf.abs(b), 1)),
      tf.maximum(x, 1e-3),
      tf.minimum(x, y),
      tf.pow(positive, tf.scalar(1.5)),
      tf.squaredDifference(x, b),
      tf.sqrt(positive),
      tf.rsqrt(positive),
      tf.exp(x),
      tf.log(positive),
      tf.neg(x),
      tf.abs(x),
      tf.relu(x),
      tf.tanh(x),
      tf.sigmoid(x),
      tf.erf(x),
      tf.reciprocal(positive),
      tf.softplus(x),
      tf.square(x),
      tf.leakyRelu(x, 0.2),
      tf.step(x, 0.1),
      tf.addN([x, y, x]),
      tf.where(tf.greater(x, y), x, y),
      tf.cast(tf.greaterEqual(x, b), "float32"),
      tf.cast(tf.less(x, 0.1), "float32"),
      tf.cast(tf.lessEqual(x, y), "float32"),
      tf.cast(tf.equal(tf.round(x), 0), "float32"),
      tf.cast(tf.notEqual(tf.round(x), 0), "float32"),
    ];
  }, 1e-6);
  await agrees("reductions", () => {
    const x = rand([6, 40, 40, 8], 17);
    return [
      tf.sum(x),
      tf.sum(x, [0, 1, 2]),
      tf.sum(x, -1, true),
      tf.mean(x, [0, 1, 2], true),
      tf.mean(x, 1),
      tf.max(x, 1),
      tf.max(x, [0, 3], true),
      tf.min(x, 2),
    ];
  }, 1e-5);
  await agrees("softmax, transpose, split, slice, concat, pad", () => {
    const x = rand([8, 50, 128], 18), tokens = rand([8, 1, 128], 19);
    return [
      tf.softmax(x),
      tf.transpose(x, [0, 2, 1]),
      ...tf.split(x, [40, 88], 2),
      ...tf.split(x, 2, 0),
      tf.slice(x, [0, 1, 0], [8, 49, 128]),
      tf.concat([tokens, x], 1),
      tf.pad(x, [[0, 0], [2, 3], [1, 1]], 0.5),
    ];
  }, 1e-6);
});

Deno.test("tensors that tfjs-cpu stores with another array type (cast from bool/int32) are read correctly", async () => {
  await agrees("cast bool and int32 to float32, then native ops", () => {
    const x = rand([64, 128], 20);
    const mask = tf.cast(tf.greater(x, 0), "float32");
    const ints = tf.cast(tf.cast(tf.mul(x, 100), "int32"), "float32");
    return [tf.mul(x, mask), tf.add(ints, x), tf.sum(mask)];
  }, 1e-6);
});

Deno.test("NCHW convolutions fall back to the cpu kernel and still give the same result", async () => {
  await agrees("conv2d NCHW", () => {
    const x = rand([1, 3, 9, 9], 21), f = rand([3, 3, 3, 4], 22);
    return [tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, "same", "NCHW")];
  });
});
