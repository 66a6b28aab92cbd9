/**
 * Real run records for leaderboard tests: the reproduce pipeline (real plan, metrics, records, events,
 * panels, PRO curves) over the fake data layer and trainer of `tests/fakes/pipeline_fakes.ts`, with
 * seeded noise added to the fake scores so that methods, categories and seeds differ.
 *
 * @module
 */
import { join } from "node:path";
import { runReproduce } from "../../src/pipeline/runner.ts";
import type { ModelName } from "../../src/core/models.ts";
import type { DatasetName } from "../../src/core/datasets.ts";
import type { RawScores } from "../../src/train/score.ts";
import { fakeDeps } from "../fakes/pipeline_fakes.ts";

/** Deterministic noise in [0, 1) from integers (mulberry32 step). */
function noise(...keys: number[]): number {
  let t = keys.reduce((a, k) => Math.imul(a ^ k, 0x9e3779b1) >>> 0, 0x6d2b79f5);
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

function noisy(raw: RawScores, seed: number, image: number, amount: number): RawScores {
  const jitter = (data: Float32Array, salt: number) =>
    data.map((v, i) => v + amount * noise(seed, image, salt, i));
  return {
    ...raw,
    mse: raw.mse + amount * noise(seed, image, 1),
    ssim: raw.ssim - amount * noise(seed, image, 2),
    patchNll: raw.patchNll ? jitter(raw.patchNll, 3) : null,
    errorMap: jitter(raw.errorMap, 4),
    ssimMap: jitter(raw.ssimMap, 5),
  };
}

/** Options of {@linkcode writeFakeRuns}. */
export interface FakeRunsOptions {
  /** Default `synthetic`. */
  dataset?: DatasetName;
  models?: ModelName[];
  seeds?: number[];
  categories?: string[];
  epochs?: number;
}

/**
 * Runs the pipeline into `<outDir>/runs` and returns that folder: categories × models × seeds records
 * (default 2 × 3 × 3 = 18), each with metrics, loss curve, PRO curve and heat-map panels.
 */
export async function writeFakeRuns(outDir: string, options: FakeRunsOptions = {}): Promise<string> {
  const {
    dataset = "synthetic",
    models = ["vtadl", "ae-mse", "ae-ssim"],
    seeds = [0, 1, 2],
    categories = ["alpha", "beta"],
    epochs = 4,
  } = options;
  const { deps } = fakeDeps({ categories });
  const score = deps.scoreImages;
  // Each model gets its own noise level, each seed its own draw: the metrics then differ across rows.
  let cell = 0;
  deps.scoreImages = async (model, images, opts) => {
    const seed = (model as unknown as { seed: number }).seed;
    const amount = 0.15 + 0.1 * (cell++ % 3);
    return (await score(model, images, opts)).map((raw, i) => noisy(raw, seed * 7919 + cell, i, amount));
  };
  await runReproduce({
    dataset,
    models,
    configName: "smoke",
    configOverrides: { epochs: String(epochs) },
    seeds,
    backend: "cpu",
    dataDir: join(outDir, "data"),
    outDir,
    panels: 1,
    log: () => {},
  }, deps);
  return join(outDir, "runs");
}
