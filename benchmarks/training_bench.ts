/**
 * Training and scoring throughput per config and backend: images/s, achieved GFLOP/s (analytic FLOPs of
 * src/models/flops.ts: a training step ≈ 3 × (forward + SSIM)), and peak memory.
 *
 * - `deno task bench` runs the small `Deno.bench` cases below (smoke on cpu).
 * - The table: `deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys
 *   benchmarks/training_bench.ts [--configs smoke,quick,code] [--backends cpu,webgpu] [--steps N]
 *   [--batch B] [--models vtadl,ae-mse]`. `code` (512²) runs --batch-code images for --steps-code steps
 *   (default 1 × 1): on tfjs-cpu one step takes minutes.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import type { ImageSample } from "../src/datasets/types.ts";
import { resolveConfig } from "../src/models/configs.ts";
import type { ModelName as ModelKind } from "../src/core/models.ts";
import { flopCounts } from "../src/models/flops.ts";
import { buildNetwork, type Network } from "../src/models/network.ts";
import { Adam } from "../src/train/adam.ts";
import { type BackendChoice, describeBackend, initBackend } from "../src/train/backend.ts";
import { RandomStream } from "../src/util/rng.ts";
import { scoreImages } from "../src/train/score.ts";
import { TrainedModel, trainStep } from "../src/train/trainer.ts";
import "../src/train/gradients.ts";

/** One row of the benchmark table. */
export interface BenchRow {
  model: ModelKind;
  config: string;
  backend: string;
  batch: number;
  steps: number;
  /** Training images per second over the timed steps (after one warm-up step). */
  trainImagesPerSecond: number;
  /** Analytic training FLOPs per second. */
  trainGflops: number;
  /** Forward-only scoring images per second (scoreImages). */
  scoreImagesPerSecond: number;
  scoreGflops: number;
  /** Peak resident set size of the process during the case, MiB. */
  peakRssMiB: number;
  /** tfjs-held tensor bytes at the end of training (GPU bytes on webgpu), MiB. */
  tensorMiB: number;
}

function randomImages(n: number, size: number, seed: number): ImageSample[] {
  const rng = RandomStream.derive(seed, "noise");
  return Array.from({ length: n }, (_, i) => ({
    path: `bench/${i}.png`,
    label: 0 as const,
    defectType: "good",
    width: size,
    height: size,
    channels: 3 as const,
    pixels: Uint8Array.from(rng.uniformArray(size * size * 3, 0, 255), Math.floor),
    mask: null,
    maskPath: null,
  }));
}

/** The optimiser of the `code` configs (Adam 1e-4, coupled weight decay 1e-4) over every trainable variable. */
function adamFor(net: Network): Adam {
  return new Adam(
    net.params.trainableSpecs().map((s) => ({
      name: s.name,
      variable: net.params.get(s.name),
      accumulate: net.accumulatesGradient(s.name),
    })),
    { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 },
  );
}

/**
 * Measures one (model, config, backend) case: one warm-up step (shader compilation on webgpu), `steps`
 * timed training steps at `batch`, then scoring of `batch` images twice (the second timed).
 */
export async function benchCase(
  model: ModelKind,
  configName: string,
  backend: BackendChoice,
  { batch = 2, steps = 2 }: { batch?: number; steps?: number } = {},
): Promise<BenchRow> {
  const info = await initBackend(backend);
  const config = resolveConfig(model, configName, { batchSize: String(batch) });
  const images = randomImages(batch, config.imageSize, 1);
  let peak = Deno.memoryUsage().rss;
  const sample = () => peak = Math.max(peak, Deno.memoryUsage().rss);
  const net = buildNetwork(config, RandomStream.derive(1, "init"));
  const adam = adamFor(net);
  const noise = RandomStream.derive(1, "noise");
  await trainStep(net, adam, images, noise); // warm-up
  sample();
  const started = performance.now();
  for (let i = 0; i < steps; i++) {
    await trainStep(net, adam, images, noise);
    sample();
  }
  const trainSeconds = (performance.now() - started) / 1000;
  const tensorBytes = tf.memory().numBytes + ((tf.memory() as { numBytesInGPU?: number }).numBytesInGPU ?? 0);
  adam.dispose();
  const trained = new TrainedModel(net, 1, 0);
  await scoreImages(trained, images);
  const scoreStart = performance.now();
  await scoreImages(trained, images);
  const scoreSeconds = (performance.now() - scoreStart) / 1000;
  sample();
  trained.dispose();
  const flops = flopCounts(config);
  const trainIps = (batch * steps) / trainSeconds;
  const scoreIps = batch / scoreSeconds;
  return {
    model,
    config: configName,
    backend: describeBackend(info),
    batch,
    steps,
    trainImagesPerSecond: trainIps,
    trainGflops: (trainIps * flops.trainStep) / 1e9,
    scoreImagesPerSecond: scoreIps,
    scoreGflops: (scoreIps * (flops.forward + flops.ssim)) / 1e9,
    peakRssMiB: peak / 2 ** 20,
    tensorMiB: tensorBytes / 2 ** 20,
  };
}

function formatTable(rows: BenchRow[]): string {
  const header =
    "| model | config | backend | batch×steps | train img/s | train GFLOP/s | score img/s | score GFLOP/s | peak RSS MiB | tensors MiB |";
  const lines = rows.map((r) =>
    `| ${r.model} | ${r.config} | ${r.backend} | ${r.batch}×${r.steps} | ${
      r.trainImagesPerSecond.toPrecision(3)
    } | ` +
    `${r.trainGflops.toPrecision(3)} | ${r.scoreImagesPerSecond.toPrecision(3)} | ${
      r.scoreGflops.toPrecision(3)
    } | ` +
    `${r.peakRssMiB.toFixed(0)} | ${r.tensorMiB.toFixed(1)} |`
  );
  return [header, "|---|---|---|---|---|---|---|---|---|---|", ...lines].join("\n");
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      configs: { type: "string", default: "smoke,quick" },
      backends: { type: "string", default: "cpu,webgpu" },
      models: { type: "string", default: "vtadl" },
      steps: { type: "string", default: "3" },
      batch: { type: "string", default: "4" },
      "steps-code": { type: "string", default: "1" },
      "batch-code": { type: "string", default: "1" },
    },
  });
  const rows: BenchRow[] = [];
  for (const model of values.models.split(",") as ModelKind[]) {
    for (const config of values.configs.split(",")) {
      for (const backend of values.backends.split(",") as BackendChoice[]) {
        const big = config === "code" || config === "paper";
        const row = await benchCase(model, config, backend, {
          batch: Number(big ? values["batch-code"] : values.batch),
          steps: Number(big ? values["steps-code"] : values.steps),
        });
        console.error(JSON.stringify(row));
        rows.push(row);
      }
    }
  }
  console.log(formatTable(rows));
}

/** One timed smoke training step on cpu (after an untimed one). */
async function benchSmokeTrainingStep(b: Deno.BenchContext, model: ModelKind): Promise<void> {
  await initBackend("cpu");
  const config = resolveConfig(model, "smoke");
  const images = randomImages(4, config.imageSize, 1);
  const net = buildNetwork(config, RandomStream.derive(1, "init"));
  const adam = adamFor(net);
  const noise = RandomStream.derive(1, "noise");
  await trainStep(net, adam, images, noise);
  b.start();
  await trainStep(net, adam, images, noise);
  b.end();
  adam.dispose();
  net.dispose();
}

Deno.bench(
  { name: "vtadl smoke: training step, batch 4, cpu", n: 5, warmup: 1 },
  async (b) => await benchSmokeTrainingStep(b, "vtadl"),
);

Deno.bench({ name: "vtadl smoke: scoring 4 images, cpu", n: 5, warmup: 1 }, async (b) => {
  await initBackend("cpu");
  const config = resolveConfig("vtadl", "smoke");
  const images = randomImages(4, config.imageSize, 1);
  const model = new TrainedModel(buildNetwork(config, RandomStream.derive(1, "init")), 1, 0);
  await scoreImages(model, images);
  b.start();
  await scoreImages(model, images);
  b.end();
  model.dispose();
});

Deno.bench(
  { name: "ae-ssim smoke: training step, batch 4, cpu", n: 5, warmup: 1 },
  async (b) => await benchSmokeTrainingStep(b, "ae-ssim"),
);
