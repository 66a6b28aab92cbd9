import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import { join } from "node:path";
import { resolveConfig } from "../src/models/configs.ts";
import { syntheticNoiseSplit } from "./helpers/noise_split.ts";
import { readCheckpoint } from "../src/train/checkpoint.ts";
import {
  CheckpointMismatchError,
  NonFiniteLossError,
  TrainingInterrupted,
  trainModel,
  type TrainOptions,
} from "../src/train/trainer.ts";
import { trainingKey, trainingListDigest } from "../src/train/identity.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

function options(
  dir: string,
  overrides: Record<string, string> = {},
  extra: Partial<TrainOptions> = {},
): TrainOptions {
  const config = resolveConfig("vtadl", "smoke", overrides);
  return {
    model: "vtadl",
    config,
    seed: 1,
    train: syntheticNoiseSplit("trainer", config.imageSize, 4).train,
    checkpointDir: dir,
    ...extra,
  };
}

async function weightsOf(path: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readCheckpoint(path);
  return new Map([...tensors].map(([name, t]) => [name, t.values]));
}

function assertSameWeights(a: Map<string, Float32Array>, b: Map<string, Float32Array>): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, values] of a) {
    const other = b.get(name)!;
    // Bitwise: compare the raw bytes, so -0/+0 or NaN payload differences would also fail.
    assert.deepEqual(
      new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
      new Uint8Array(other.buffer, other.byteOffset, other.byteLength),
      name,
    );
  }
}

Deno.test("same seed and backend give bit-identical losses and weights; another seed differs", async () => {
  await useCpu();
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir(), await Deno.makeTempDir()];
  const runs = [];
  for (const [i, dir] of dirs.entries()) {
    const result = await trainModel({ ...options(dir), seed: i === 2 ? 2 : 1 });
    result.model.dispose();
    runs.push(result.epochs.map((e) => [e.loss, e.terms.mse, e.terms.ssim, e.terms.nll]));
  }
  assert.deepEqual(runs[0], runs[1]);
  assertSameWeights(await weightsOf(join(dirs[0], "last.ckpt")), await weightsOf(join(dirs[1], "last.ckpt")));
  assert.notDeepEqual(runs[0], runs[2]);
  for (const dir of dirs) await Deno.remove(dir, { recursive: true });
});

Deno.test("tf.memory().numTensors stays constant across training steps", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const counts: number[] = [];
  const config = resolveConfig("vtadl", "smoke", { batchSize: "2" });
  const result = await trainModel({
    ...options(dir),
    config,
    onStep: () => counts.push(tf.memory().numTensors),
  });
  assert.equal(counts.length, 4); // 2 epochs × 2 steps
  assert.ok(counts.every((c) => c === counts[0]), counts.join(","));
  const beforeDispose = tf.memory().numTensors;
  result.model.dispose();
  assert.ok(tf.memory().numTensors < beforeDispose);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resume after SIGKILL mid-run reaches the bit-identical final weights", async () => {
  await useCpu();
  const epochs = "6";
  const reference = await Deno.makeTempDir();
  const full = await trainModel({
    ...options(reference, { epochs }),
    seed: 11,
    train: syntheticNoiseSplit("resume", 32, 4).train,
  });
  full.model.dispose();

  const dir = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-sys",
      "--allow-ffi",
      fileURLToPath(new URL("./fixtures/train_child.ts", import.meta.url)),
      dir,
      epochs,
    ],
    stdout: "null",
    stderr: "null",
  }).spawn();
  const last = join(dir, "last.ckpt");
  for (let waited = 0; waited < 120_000; waited += 20) {
    try {
      await Deno.stat(last);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.kill("SIGKILL");
  await child.status;
  const killedAt = (await readCheckpoint(last)).meta.epoch;
  assert.ok(killedAt >= 1 && killedAt < 6, `child was killed after epoch ${killedAt}`);

  const resumed = await trainModel({
    ...options(dir, { epochs }),
    seed: 11,
    train: syntheticNoiseSplit("resume", 32, 4).train,
  });
  resumed.model.dispose();
  assert.deepEqual(resumed.epochs.map((e) => e.loss), full.epochs.map((e) => e.loss));
  assertSameWeights(await weightsOf(last), await weightsOf(join(reference, "last.ckpt")));
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(reference, { recursive: true });
});

Deno.test("a checkpoint of another training run is refused, naming what differs", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  (await trainModel(options(dir, { epochs: "1" }))).model.dispose();
  await assert.rejects(
    () => trainModel(options(dir, { epochs: "1", learningRate: "0.01" })),
    (e) =>
      e instanceof CheckpointMismatchError &&
      /another training run \(configHash [0-9a-f]{12}… → [0-9a-f]{12}…\)/.test(e.message) &&
      /--restart/.test(e.message),
  );
  await assert.rejects(
    () => trainModel({ ...options(dir, { epochs: "1" }), seed: 5 }),
    /seed 1 → 5/,
  );
  await assert.rejects(
    () =>
      trainModel({
        ...options(dir, { epochs: "1" }),
        data: { dataset: "synthetic", subset: { maxTrain: 4 } },
      }),
    /dataset none → "synthetic"; subset none → \{"maxTrain":4\}/,
  );
  // --restart replaces it instead.
  const restarted = await trainModel({
    ...options(dir, { epochs: "1", learningRate: "0.01" }),
    checkpoint: "restart",
  });
  assert.equal(restarted.resumedFrom, null);
  restarted.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("a checkpoint trained on another image list is refused even under the same identity", async () => {
  // The defect: a full run resumed after a 4-image run was scored with the 4-image model.
  await useCpu();
  const dir = await Deno.makeTempDir();
  const data = { dataset: "synthetic", category: "disc" };
  const four = syntheticNoiseSplit("trainer", 32, 4).train;
  (await trainModel({ ...options(dir, { epochs: "2" }), train: four, data, maxEpochsThisRun: 1 })).model
    .dispose();
  const six = syntheticNoiseSplit("trainer", 32, 6).train;
  await assert.rejects(
    () => trainModel({ ...options(dir, { epochs: "2" }), train: six, data }),
    (e) =>
      e instanceof CheckpointMismatchError &&
      /trained on another training set: 4 images \(list digest [0-9a-f]{12}\), this run has 6/.test(
        e.message,
      ),
  );
  const { meta } = await readCheckpoint(join(dir, "last.ckpt"));
  assert.deepEqual(meta.trainList, { count: 4, digest: trainingListDigest(four) });
  assert.equal(meta.trainingKey, trainingKey(meta.identity));
  assert.deepEqual(meta.identity.data, data);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("rerunning without any flag continues a compatible checkpoint instead of starting over", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const first = await trainModel({ ...options(dir, { epochs: "3" }), maxEpochsThisRun: 1 });
  first.model.dispose();
  const resumes: unknown[] = [];
  const second = await trainModel({ ...options(dir, { epochs: "3" }), onResume: (r) => resumes.push(r) });
  second.model.dispose();
  assert.deepEqual(second.resumedFrom, { path: join(dir, "last.ckpt"), epoch: 1, step: 0 });
  assert.equal(resumes.length, 1);
  assert.deepEqual(second.epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.equal(second.epochs[0].loss, first.epochs[0].loss, "epoch 1 comes from the checkpoint");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("an interrupt stops after the current step, checkpoints mid-epoch and resumes bit-identically", async () => {
  await useCpu();
  const reference = await Deno.makeTempDir();
  // batch 1 over 4 images: 4 steps per epoch, 2 epochs.
  const set = { epochs: "2", batchSize: "1" };
  const full = await trainModel(options(reference, set));
  full.model.dispose();

  const dir = await Deno.makeTempDir();
  const controller = new AbortController();
  await assert.rejects(
    () =>
      trainModel({
        ...options(dir, set),
        signal: controller.signal,
        onStep: ({ epoch, step }) => {
          if (epoch === 2 && step === 2) controller.abort();
        },
      }),
    (e) => e instanceof TrainingInterrupted && /epoch 2, after step 2 of 4/.test(e.message),
  );
  const { meta } = await readCheckpoint(join(dir, "last.ckpt"));
  assert.equal(meta.epoch, 1, "epoch 1 complete");
  assert.equal(meta.partial?.epoch, 2);
  assert.equal(meta.partial?.steps, 2, "the two steps of epoch 2 are in the checkpoint, not lost");
  assert.equal(meta.optimizerStep, 6);

  const resumed = await trainModel(options(dir, set));
  resumed.model.dispose();
  assert.deepEqual(resumed.resumedFrom, { path: join(dir, "last.ckpt"), epoch: 1, step: 2 });
  assert.deepEqual(resumed.epochs.map((e) => [e.loss, e.terms]), full.epochs.map((e) => [e.loss, e.terms]));
  assertSameWeights(await weightsOf(join(dir, "last.ckpt")), await weightsOf(join(reference, "last.ckpt")));
  assert.equal((await readCheckpoint(join(dir, "last.ckpt"))).meta.partial, null);
  await Deno.remove(dir, { recursive: true });
  await Deno.remove(reference, { recursive: true });
});

Deno.test("a non-finite loss stops training and keeps the last good checkpoint", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  // One step per epoch; an absurd learning rate blows the weights up after epoch 1's step.
  const opts = options(dir, { epochs: "3", batchSize: "4", learningRate: "1e30" });
  await assert.rejects(
    () => trainModel(opts),
    (e) => e instanceof NonFiniteLossError && /epoch 2/.test(e.message),
  );
  const { meta } = await readCheckpoint(join(dir, "last.ckpt"));
  assert.equal(meta.epoch, 1);
  assert.ok(Number.isFinite(meta.epochs[0].loss));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("best-checkpoint policy: bestLoss keeps the lowest mean loss, last keeps the last epoch", async () => {
  await useCpu();
  for (const policy of ["bestLoss", "last"]) {
    const dir = await Deno.makeTempDir();
    const result = await trainModel(
      options(dir, { epochs: "3", checkpointPolicy: policy, learningRate: "0.05" }),
    );
    const losses = result.epochs.map((e) => e.loss);
    const expected = policy === "last" ? 3 : losses.lastIndexOf(Math.min(...losses)) + 1;
    assert.equal(result.bestEpoch, expected, `${policy}: ${losses.join(", ")}`);
    assert.equal(result.model.epoch, expected);
    const best = await readCheckpoint(join(dir, "best.ckpt"));
    assert.equal(best.meta.epoch, expected);
    const bestWeights = best.tensors.get("param:projection.w")!.values;
    const modelWeights = await result.model.network.params.get("projection.w").data();
    assert.deepEqual(Float32Array.from(modelWeights), bestWeights);
    result.model.dispose();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("autoencoders train on the same loop (ae-ssim smoke, one epoch)", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const config = resolveConfig("ae-ssim", "smoke", { epochs: "1" });
  const result = await trainModel({ ...options(dir), model: "ae-ssim", config });
  assert.deepEqual(Object.keys(result.epochs[0].terms), ["mse", "ssim"]);
  assert.ok(Number.isFinite(result.epochs[0].loss));
  result.model.dispose();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("images of the wrong size are refused with the preprocessing the config needs", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  await assert.rejects(
    () => trainModel({ ...options(dir), train: syntheticNoiseSplit("big", 64, 2).train }),
    /is 64×64×3, config smoke needs 32×32×3 \(preprocess with resize 34, crop 32\)/,
  );
  await Deno.remove(dir, { recursive: true });
});
