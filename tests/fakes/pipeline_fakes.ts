/**
 * Fake data layer and trainer behind `PipelineDeps` (the configs, plan and metric engine are the real
 * ones), for testing the reproduce orchestration in seconds. Images are 32×32 (the smoke crop); anomalous ones carry a bright 4×4 square
 * whose mask is exact; the fake "model" scores each 4×4 patch by its mean brightness.
 *
 * @module
 */
import type { CategorySplit, ImageSample } from "../../src/datasets/types.ts";
import type { PipelineDeps } from "../../src/pipeline/deps.ts";
import type { EpochReport, TrainOptions, TrainResult } from "../../src/train/trainer.ts";
import type { RawScores } from "../../src/eval/image_score.ts";
import type { ReproduceOptions } from "../../src/pipeline/runner.ts";
import { join } from "node:path";

export const SIZE = 32; // the smoke config's crop

/** Mann–Whitney AUROC with ties ½ (O(n²), fine for fixtures). */
export function bruteAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let num = 0, pos = 0, neg = 0;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i]) pos++;
    else neg++;
  }
  for (let i = 0; i < scores.length; i++) {
    if (!labels[i]) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j]) continue;
      num += scores[i] > scores[j] ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    }
  }
  if (pos === 0 || neg === 0) throw new Error("one class only");
  return num / (pos * neg);
}

export function makeSample(index: number, label: 0 | 1, category: string, withMask = true): ImageSample {
  const pixels = new Uint8Array(SIZE * SIZE * 3);
  const mask = label === 1 && withMask ? new Uint8Array(SIZE * SIZE) : null;
  for (let p = 0; p < SIZE * SIZE; p++) pixels.fill(40 + ((p * 7 + index * 13) % 30), p * 3, p * 3 + 3);
  if (label === 1) {
    const ox = (index * 4) % 12, oy = (index * 8) % 12;
    for (let y = oy; y < oy + 4; y++) {
      for (let x = ox; x < ox + 4; x++) {
        pixels.fill(230, (y * SIZE + x) * 3, (y * SIZE + x) * 3 + 3);
        if (mask) mask[y * SIZE + x] = 1;
      }
    }
  }
  return {
    path: `${category}/${label ? "test/bad" : "test/good"}/${String(index).padStart(3, "0")}.png`,
    label,
    defectType: label ? "bad" : "good",
    width: SIZE,
    height: SIZE,
    channels: 3,
    pixels,
    mask,
    maskPath: mask ? `${category}/ground_truth/bad/${String(index).padStart(3, "0")}_mask.png` : null,
  };
}

export function fakeSplit(dataset: string, category: string, withMasks = true): CategorySplit {
  return {
    dataset,
    category,
    train: Array.from({ length: 6 }, (_, i) => makeSample(100 + i, 0, category)),
    test: [
      ...Array.from({ length: 5 }, (_, i) => makeSample(i, 0, category)),
      ...Array.from({ length: 5 }, (_, i) => makeSample(10 + i, 1, category, withMasks)),
    ],
  };
}

/** The fake model's forward pass: per 4×4 patch mean brightness as "NLL". */
function fakeRaw(sample: ImageSample, seed: number): RawScores {
  const grid = 4, patch = SIZE / grid;
  const patchNll = new Float32Array(grid * grid);
  const errorMap = new Float32Array(SIZE * SIZE);
  const ssimMap = new Float32Array(SIZE * SIZE);
  for (let y = 0; y < SIZE; y++) {
    for (let x = 0; x < SIZE; x++) {
      const v = sample.pixels[(y * SIZE + x) * 3] / 255;
      patchNll[Math.floor(y / patch) * grid + Math.floor(x / patch)] += v / (patch * patch);
      errorMap[y * SIZE + x] = v * v;
      ssimMap[y * SIZE + x] = 1 - v;
    }
  }
  const mse = errorMap.reduce((a, b) => a + b, 0) / errorMap.length + seed * 1e-6;
  return { mse, ssim: 1 - mse, patchNll, gridSize: grid, errorMap, ssimMap };
}

export interface FakeCalls {
  train: { category: string; model: string; seed: number; checkpoint: string; checkpointDir: string }[];
  ensure: number;
  loads: number;
  disposed: number;
}

export interface FakeOptions {
  categories?: string[];
  /** Throw during training of this category. */
  failCategory?: string;
  /** Abort the controller after this many epochs of the first trained cell. */
  abortAfterEpochs?: { controller: AbortController; epochs: number };
  withMasks?: boolean;
}

/** Builds fake deps and a record of the calls made to them. */
export function fakeDeps(options: FakeOptions = {}): { deps: PipelineDeps; calls: FakeCalls } {
  const categories = options.categories ?? ["alpha", "beta"];
  const calls: FakeCalls = { train: [], ensure: 0, loads: 0, disposed: 0 };
  const checkpoints = new Map<string, number>(); // checkpointDir → last finished epoch
  const deps: PipelineDeps = {
    ensureDataset(dataset, opts) {
      calls.ensure++;
      return Promise.resolve({
        dataset,
        root: `${opts.dataDir}/${dataset}`,
        licence: "CC0-1.0",
        lockDigest: "d".repeat(64),
        archiveDigests: { "fake.tar.xz": "a".repeat(64) },
        manifestSha256: "m".repeat(64),
        status: "present",
      });
    },
    listCategories: () => Promise.resolve(categories),
    loadCategorySplit(dataset, _root, category) {
      calls.loads++;
      return Promise.resolve(fakeSplit(dataset, category, options.withMasks ?? true));
    },
    initBackend: () =>
      Promise.resolve({
        name: "cpu",
        versions: { "tfjs-core": "fake" },
        engine: "tfjs-backend-cpu (JavaScript)",
        threads: 1,
        deterministic: "yes",
      }),
    async trainModel(o: TrainOptions): Promise<TrainResult> {
      calls.train.push({
        category: o.train[0].path.split("/")[0],
        model: o.model,
        seed: o.seed,
        checkpoint: o.checkpoint ?? "resume",
        checkpointDir: o.checkpointDir,
      });
      if (o.train[0].path.startsWith(`${options.failCategory}/`)) {
        throw new Error(`fake trainer: loss is NaN at epoch 1 (category ${options.failCategory})`);
      }
      const saved = checkpoints.get(o.checkpointDir);
      const resume = (o.checkpoint ?? "resume") === "resume" && saved !== undefined;
      const start = resume ? saved : 0;
      if (resume) o.onResume?.({ path: `${o.checkpointDir}/last.ckpt`, epoch: start, step: 0 });
      const epochs: EpochReport[] = [];
      for (let e = start + 1; e <= o.config.epochs; e++) {
        await Promise.resolve();
        if (o.signal?.aborted) throw new DOMException("aborted", "AbortError");
        const report = {
          epoch: e,
          loss: 1 / e,
          terms: { mse: 0.5 / e },
          imagesPerSecond: 100,
          seconds: 0.01,
        };
        epochs.push(report);
        checkpoints.set(o.checkpointDir, e);
        o.onEpoch?.(report);
        const abort = options.abortAfterEpochs;
        if (abort && calls.train.length === 1 && e === abort.epochs) abort.controller.abort();
      }
      return {
        model: { dispose: () => void calls.disposed++, seed: o.seed } as unknown as TrainResult["model"],
        epochs,
        bestEpoch: o.config.epochs,
        seconds: 0.01 * epochs.length,
        resumedFrom: resume ? { path: `${o.checkpointDir}/last.ckpt`, epoch: start, step: 0 } : null,
      };
    },
    scoreImages(model, images) {
      const seed = (model as unknown as { seed: number }).seed;
      return Promise.resolve(images.map((s) => fakeRaw(s, seed)));
    },
  };
  return { deps, calls };
}

/**
 * Reproduce options for tests: VT-ADL on synthetic with the smoke config for 1 epoch, seed 0, the cpu
 * backend, no panels, silent, data under `outDir/data`; `extra` overrides any of them.
 */
export function reproduceOptions(outDir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return {
    dataset: "synthetic",
    models: ["vtadl"],
    configName: "smoke",
    configOverrides: { epochs: "1" },
    seeds: [0],
    backend: "cpu",
    dataDir: join(outDir, "data"),
    outDir,
    panels: 0,
    log: () => {},
    ...extra,
  };
}
