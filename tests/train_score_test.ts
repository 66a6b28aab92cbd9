import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { resolveConfig } from "../src/models/configs.ts";
import { syntheticNoiseSplit } from "./helpers/noise_split.ts";
import { scoreImages } from "../src/train/score.ts";
import { loadTrainedModel, trainModel } from "../src/train/trainer.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

Deno.test("scoreImages returns per-image raw scores whose means match their maps", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const split = syntheticNoiseSplit("score", 32, 4);
  for (const model of ["vtadl", "ae-mse"] as const) {
    const config = resolveConfig(model, "smoke", { epochs: "1" });
    const { model: trained } = await trainModel({
      model,
      config,
      seed: 1,
      train: split.train,
      checkpointDir: `${dir}/${model}`,
    });
    const before = tf.memory().numTensors;
    const scores = await scoreImages(trained, split.test, { batchSize: 3 });
    assert.equal(tf.memory().numTensors, before);
    assert.equal(scores.length, split.test.length);
    for (const s of scores) {
      assert.equal(s.errorMap.length, 32 * 32);
      assert.equal(s.ssimMap.length, 32 * 32);
      const meanError = s.errorMap.reduce((a, b) => a + b, 0) / s.errorMap.length;
      assert.ok(Math.abs(meanError - s.mse) < 1e-6);
      assert.ok(s.ssim <= 1 && s.ssim > -1);
      if (model === "vtadl") {
        assert.equal(s.gridSize, 8);
        assert.equal(s.patchNll?.length, 64);
        assert.ok(s.patchNll!.every(Number.isFinite));
      } else {
        assert.equal(s.gridSize, 0);
        assert.equal(s.patchNll, null);
      }
    }
    // Scoring is forward-only and deterministic: the same model gives the same numbers again, and a model
    // loaded from its best checkpoint scores identically.
    const again = await scoreImages(trained, split.test);
    assert.deepEqual(again.map((s) => s.mse), scores.map((s) => s.mse));
    const loaded = await loadTrainedModel(`${dir}/${model}/best.ckpt`);
    const reloaded = await scoreImages(loaded, split.test);
    assert.deepEqual(reloaded.map((s) => s.patchNll), scores.map((s) => s.patchNll));
    loaded.dispose();
    trained.dispose();
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("scoreImages refuses images of the wrong size", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  const config = resolveConfig("ae-mse", "smoke", { epochs: "1" });
  const { model } = await trainModel({
    model: "ae-mse",
    config,
    seed: 1,
    train: syntheticNoiseSplit("s", 32, 4).train,
    checkpointDir: dir,
  });
  await assert.rejects(
    () => scoreImages(model, syntheticNoiseSplit("s", 64).test),
    /is 64×64, model smoke needs 32×32/,
  );
  model.dispose();
  await Deno.remove(dir, { recursive: true });
});
