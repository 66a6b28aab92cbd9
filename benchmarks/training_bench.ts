/**
 * `deno task bench` cases for training and scoring: one smoke step per model on `cpu` and on the
 * `onnxruntime` engine. Per-config throughput, memory and the PyTorch comparison are
 * `deno task bench:train` (train_bench.ts).
 *
 * @module
 */
import type { ModelName } from "../src/core/models.ts";
import type { BackendChoice } from "../src/train/backend.ts";
import { HarnessBench } from "./train_bench.ts";

/** Registers one timed smoke training step + scoring pass for a model and backend. */
function benchSmoke(model: ModelName, backend: BackendChoice): void {
  Deno.bench(
    { name: `${model} smoke: training step + scoring, batch 4, ${backend}`, n: 3, warmup: 1 },
    async (b) => {
      const bench = await HarnessBench.create({ model, config: "smoke", backend, batch: 4, steps: 1 });
      await bench.measure(); // warm-up: first step, session compilation
      b.start();
      await bench.measure();
      b.end();
      bench.dispose();
    },
  );
}

for (const backend of ["cpu", "onnxruntime"] as const) {
  benchSmoke("vtadl", backend);
  benchSmoke("ae-ssim", backend);
}
