/**
 * Whole training steps on the onnxruntime engine: loss and gradients agree with tfjs-cpu, the same seed
 * gives bit-identical results, the optimiser's in-place update equals the tensor-op one bit for bit, and
 * the engine's array recycling never hands out memory that a live tensor still uses.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import "../src/train/gradients.ts";
import { resolveConfig } from "../src/models/configs.ts";
import type { ModelName } from "../src/core/models.ts";
import { buildNetwork } from "../src/models/network.ts";
import { Adam } from "../src/train/adam.ts";
import { initBackend } from "../src/train/backend.ts";
import { RandomStream } from "../src/util/rng.ts";
import { imagesToBatch, trainModel } from "../src/train/trainer.ts";
import { syntheticNoiseSplit } from "./helpers/noise_split.ts";

await initBackend("onnxruntime");

/** Loss terms and every trainable gradient of one step, from fixed weights, batch and noise. */
async function stepGradients(backend: string, model: ModelName, configName: string) {
  await tf.setBackend(backend);
  const config = resolveConfig(model, configName, { batchSize: "4" });
  const net = buildNetwork(config, RandomStream.derive(3, "init"));
  const batch = syntheticNoiseSplit("grads", config.imageSize, 4).train;
  const x = imagesToBatch(batch);
  const shape = net.noiseShape(batch.length);
  const noise = shape
    ? tf.tensor(RandomStream.derive(3, "noise").normalArray(shape.reduce((a, b) => a * b), 0.2), shape)
    : null;
  const variables = net.params.trainableSpecs().map((s) => net.params.get(s.name));
  let terms: Record<string, number> = {};
  const { value, grads } = tf.variableGrads(() => {
    const out = net.loss(x, noise);
    terms = Object.fromEntries(Object.entries(out.terms).map(([k, t]) => [k, t.dataSync()[0]]));
    for (const s of out.bnStats) tf.dispose([s.mean, s.unbiasedVariance]);
    return out.loss;
  }, variables);
  const loss = (await value.data())[0];
  const gradients = new Map(
    net.params.trainableSpecs().map((
      s,
    ) => [s.name, Float32Array.from(grads[net.params.get(s.name).name].dataSync())]),
  );
  tf.dispose([x, value, ...Object.values(grads)]);
  noise?.dispose();
  net.dispose();
  return { loss, terms, gradients };
}

for (const [model, configName] of [["vtadl", "smoke"], ["vtadl", "mnist"], ["ae-ssim", "smoke"]] as const) {
  Deno.test(`${model}/${configName}: one training step's loss and gradients agree with tfjs-cpu`, async () => {
    const cpu = await stepGradients("cpu", model, configName);
    const ort = await stepGradients("onnxruntime", model, configName);
    assert.ok(Math.abs(ort.loss - cpu.loss) <= 1e-4 * Math.abs(cpu.loss), `loss ${ort.loss} vs ${cpu.loss}`);
    for (const [name, value] of Object.entries(cpu.terms)) {
      assert.ok(Math.abs(ort.terms[name] - value) <= 1e-4 * Math.max(Math.abs(value), 1e-3), `${name}`);
    }
    // A few gradients are zero up to rounding (a ConvT bias right before a training-mode BatchNorm, whose
    // mean subtraction cancels it); those are compared against the largest gradient of the network.
    const largest = Math.max(
      ...[...cpu.gradients.values()].map((g) => g.reduce((m, v) => Math.max(m, Math.abs(v)), 0)),
    );
    for (const [name, ref] of cpu.gradients) {
      const got = ort.gradients.get(name)!;
      let num = 0, den = 0;
      for (let i = 0; i < ref.length; i++) {
        num = Math.max(num, Math.abs(got[i] - ref[i]));
        den = Math.max(den, Math.abs(ref[i]));
      }
      assert.ok(num <= 1e-3 * den + 1e-5 * largest, `gradient of ${name}: max error ${num} of max ${den}`);
    }
  });
}

Deno.test("onnxruntime: the same seed gives bit-identical losses and weights; another seed differs", async () => {
  await tf.setBackend("onnxruntime");
  const config = resolveConfig("vtadl", "smoke");
  const train = syntheticNoiseSplit("determinism", config.imageSize, 8).train;
  const run = async (seed: number) => {
    const dir = await Deno.makeTempDir();
    try {
      const result = await trainModel({ model: "vtadl", config, seed, train, checkpointDir: dir });
      const weights = result.model.network.params.entries().map(([, v]) => Float32Array.from(v.dataSync()));
      result.model.dispose();
      return { losses: result.epochs.map((e) => e.loss), weights };
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  };
  const a = await run(5), b = await run(5), c = await run(6);
  assert.deepEqual(a.losses, b.losses);
  a.weights.forEach((w, i) =>
    assert.deepEqual(new Uint8Array(w.buffer), new Uint8Array(b.weights[i].buffer))
  );
  assert.notDeepEqual(a.losses, c.losses);
});

Deno.test("Adam: tensor ops on cpu, the fused pass on cpu and the engine's in-place graph give the same bits", async () => {
  const results: Float32Array[][] = [];
  const runs = [["cpu", "tensorOps"], ["cpu", "auto"], ["onnxruntime", "auto"]] as const;
  for (const [backend, implementation] of runs) {
    await tf.setBackend(backend);
    // 300 000 elements spans two of the engine's chunks; the accumulating parameter exercises acc.
    const vars = [[1000, 37], [5000], [300000]].map((shape, i) =>
      tf.variable(tf.randomNormal(shape, 0, 1, "float32", i + 1))
    );
    const adam = new Adam(vars.map((v, i) => ({ name: `p${i}`, variable: v, accumulate: i === 1 })), {
      learningRate: 1e-3,
      beta1: 0.9,
      beta2: 0.999,
      epsilon: 1e-8,
      weightDecay: 1e-4,
      implementation,
    });
    for (let step = 0; step < 4; step++) {
      const grads = vars.map((v, i) => tf.randomNormal(v.shape, 0, 1, "float32", 10 + step * 3 + i));
      adam.apply(grads);
      tf.dispose(grads);
    }
    results.push(
      [...vars, ...adam.stateTensors().map((s) => s.tensor)].map((t) => Float32Array.from(t.dataSync())),
    );
    adam.dispose();
    tf.dispose(vars);
  }
  for (const other of results.slice(1)) {
    other.forEach((values, i) =>
      assert.deepEqual(new Uint8Array(values.buffer), new Uint8Array(results[0][i].buffer))
    );
  }
});

Deno.test("recycled arrays never alias a live tensor: views, reads and disposed parents", async () => {
  await tf.setBackend("onnxruntime");
  const n = 1 << 16;
  // A contiguous slice is a view of its parent in tfjs-cpu; disposing the parent must not recycle it.
  const parent = tf.add(tf.ones([4, n]), 1);
  const view = tf.slice(parent, [1, 0], [1, n]);
  parent.dispose();
  // A read array stays the caller's after its tensor is gone.
  const read = tf.mul(tf.ones([n]), 3);
  const readValues = read.dataSync();
  read.dispose();
  // Churn: these allocations would reuse any wrongly recycled buffer.
  for (let i = 0; i < 20; i++) tf.tidy(() => tf.sum(tf.mul(tf.fill([4, n], i), 7)));
  assert.ok(view.dataSync().every((v) => v === 2), "slice view was overwritten");
  assert.ok(readValues.every((v) => v === 3), "read array was overwritten");
  view.dispose();
});
