/**
 * What the nightly run measures, as data: the `full` profile (what a 2-core CPU runner finishes in about
 * an hour) and the `quick` profile (`--quick`: seconds-scale cells on the deterministic `cpu` backend, for
 * tests and a first look). The baseline file keeps one entry per profile, since their numbers differ.
 *
 * @module
 */
import type { DatasetName } from "../../src/core/datasets.ts";
import type { ModelName } from "../../src/core/models.ts";
import type { BackendChoice } from "../../src/train/backend.ts";

/** One `reproduce` call of the model gate. */
export interface ModelSuite {
  /** The dataset (also the suite's name in baseline keys). */
  dataset: DatasetName;
  models: ModelName[];
  config: string;
  /** `--set key=value` overrides. */
  set?: Record<string, string>;
  /** Categories to run (default: all of the dataset's). */
  categories?: string[];
  maxTrain?: number;
  maxTest?: number;
  /** A folder mirror the dataset must be installed from; the suite is skipped when it is absent. */
  requiresMirror?: string;
  /** Categories whose seed-0 cells are run a second time for the determinism gate (default: all). */
  determinismCategories?: string[];
}

/** One training/scoring throughput measurement (`benchmarks/train_bench.ts --json`). */
export interface TrainPerf {
  model: ModelName;
  config: string;
  batch: number;
  steps: number;
}

/** A nightly profile. */
export interface NightlyProfile {
  name: "quick" | "full";
  backend: BackendChoice;
  /** Random cases per group of `verify-metrics`. */
  verifyCases: number;
  suites: ModelSuite[];
  performance: {
    train: TrainPerf[];
    /** AU-PRO timing on `images` synthetic maps of `size`² (`benchmarks/au_pro_bench.ts`). */
    auPro: { images: number; size: number };
    /** Size of the archive downloaded from a loopback server and extracted, in MB. */
    archiveMb: number;
  };
  /** Run `check:gradients` (the slow full-shape check) and `download --verify` of installed datasets. */
  slowChecks: boolean;
}

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DEBIAN = "/usr/share/datasets/fashion-mnist";

/** `deno task nightly`: about an hour on a 2-core CPU runner (docs/nightly.md has the measured parts). */
export const FULL_PROFILE: NightlyProfile = {
  name: "full",
  backend: "auto",
  verifyCases: 300,
  suites: [
    { dataset: "synthetic", models: ["vtadl", "ae-mse", "ae-ssim"], config: "smoke", set: { epochs: "10" } },
    {
      dataset: "fashion-mnist",
      models: ["vtadl", "ae-ssim"],
      config: "mnist",
      set: { epochs: "2" },
      categories: ["0"],
      maxTrain: 384,
      maxTest: 500,
      requiresMirror: FASHION_MNIST_DEBIAN,
    },
  ],
  performance: {
    train: [
      { model: "vtadl", config: "mnist", batch: 8, steps: 5 },
      { model: "ae-ssim", config: "mnist", batch: 8, steps: 5 },
      { model: "vtadl", config: "code", batch: 2, steps: 2 },
    ],
    auPro: { images: 100, size: 512 },
    archiveMb: 64,
  },
  slowChecks: true,
};

/** `deno task nightly --quick`: the same gates on tiny cells (deterministic `cpu` backend). */
export const QUICK_PROFILE: NightlyProfile = {
  name: "quick",
  backend: "cpu",
  verifyCases: 20,
  suites: [
    {
      dataset: "synthetic",
      models: ["vtadl", "ae-mse"],
      config: "smoke",
      categories: ["disc"],
      maxTrain: 4,
      maxTest: 8,
    },
  ],
  performance: {
    train: [{ model: "ae-mse", config: "smoke", batch: 4, steps: 1 }],
    auPro: { images: 4, size: 128 },
    archiveMb: 4,
  },
  slowChecks: false,
};
