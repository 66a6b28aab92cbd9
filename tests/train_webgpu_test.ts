import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { resolveConfig } from "../src/models/configs.ts";
import { initBackend } from "../src/train/backend.ts";
import { syntheticNoiseSplit } from "./helpers/noise_split.ts";
import { trainModel } from "../src/train/trainer.ts";
import "../src/train/gradients.ts";

const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();

Deno.test({
  name: "smoke trains on webgpu (llvmpipe in CI) with losses matching cpu to float32 noise",
  ignore: !adapter,
  async fn() {
    const train = syntheticNoiseSplit("webgpu", 32, 4).train;
    const losses: Record<string, number[]> = {};
    for (const backend of ["webgpu", "cpu"] as const) {
      await initBackend(backend);
      const dir = await Deno.makeTempDir();
      const config = resolveConfig("vtadl", "smoke");
      const before = tf.memory().numTensors;
      const result = await trainModel({ model: "vtadl", config, seed: 2, train, checkpointDir: dir });
      losses[backend] = result.epochs.map((e) => e.loss);
      result.model.dispose();
      assert.equal(tf.memory().numTensors, before, backend);
      await Deno.remove(dir, { recursive: true });
    }
    assert.equal(losses.webgpu.length, 2);
    for (let i = 0; i < 2; i++) {
      const rel = Math.abs(losses.webgpu[i] - losses.cpu[i]) / Math.abs(losses.cpu[i]);
      assert.ok(rel < 1e-3, `epoch ${i + 1}: webgpu ${losses.webgpu[i]} vs cpu ${losses.cpu[i]}`);
    }
  },
});
