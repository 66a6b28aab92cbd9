/**
 * Training and scoring throughput of one (model, config, backend), optionally side by side with the
 * PyTorch yardstick of `benchmarks/torch_reference/`.
 *
 * ```sh
 * deno task bench:train --model vtadl --config code --backend onnxruntime --batch 2 --steps 3 --json
 * deno task bench:train --model vtadl --config mnist --vs-torch --rounds 3
 * ```
 *
 * `--json` prints one line per measurement:
 * `{"model","config","backend","engine","threads","batch","steps","train_img_per_s","score_img_per_s",
 * "peak_rss_mb"}`. One warm-up training step (and one warm-up scoring pass) is excluded. With
 * `--vs-torch`, every round runs the PyTorch script on the same config, batch, steps and threads, then the
 * harness, and a last line gives the ratios of the medians (harness / PyTorch): interleaving the two keeps
 * both under the same machine load. PyTorch is found as `VTADL_TORCH_PYTHON`, else the first of `python3`
 * and `/usr/bin/python3` that imports torch; without one the comparison is skipped with a message.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as tf from "@tensorflow/tfjs-core";
import type { ImageSample } from "../src/datasets/types.ts";
import { resolveConfig } from "../src/models/configs.ts";
import { MODEL_NAMES, type ModelName } from "../src/core/models.ts";
import { buildNetwork, type Network } from "../src/models/network.ts";
import { Adam } from "../src/train/adam.ts";
import { BACKEND_CHOICES, type BackendChoice, describeBackend, initBackend } from "../src/train/backend.ts";
import { RandomStream } from "../src/util/rng.ts";
import { scoreImages } from "../src/train/score.ts";
import { TrainedModel, trainStep } from "../src/train/trainer.ts";
import "../src/train/gradients.ts";

/** One measurement, in the JSON shape the issue tracker and nightly compare. */
export interface TrainBenchResult {
  model: string;
  config: string;
  backend: string;
  engine: string;
  threads: number | null;
  batch: number;
  steps: number;
  train_img_per_s: number;
  score_img_per_s: number;
  peak_rss_mb: number;
}

/** `n` random uint8 RGB images of `size`² (the values do not matter for timing). */
export function randomImages(n: number, size: number, seed: number): ImageSample[] {
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

/** Adam over every trainable variable with the config's hyper-parameters. */
export function adamFor(net: Network): Adam {
  const c = net.config;
  return new Adam(
    net.params.trainableSpecs().map((s) => ({
      name: s.name,
      variable: net.params.get(s.name),
      accumulate: net.accumulatesGradient(s.name),
    })),
    {
      learningRate: c.learningRate,
      beta1: c.adamBeta1,
      beta2: c.adamBeta2,
      epsilon: c.adamEpsilon,
      weightDecay: c.weightDecay,
    },
  );
}

/** Options of {@linkcode HarnessBench}. */
export interface BenchOptions {
  model: ModelName;
  config: string;
  backend: BackendChoice;
  batch?: number;
  steps: number;
  threads?: number;
}

/**
 * A network, optimiser and batch on the chosen backend, ready for repeated measurements (the first one
 * includes the warm-up step).
 */
export class HarnessBench {
  readonly options: BenchOptions;
  readonly #net: Network;
  readonly #adam: Adam;
  readonly #images: ImageSample[];
  readonly #noise = RandomStream.derive(1, "noise");
  readonly #backendLine: string;
  readonly #engine: string;
  readonly #threads: number | null;
  #peak = 0;
  #warm = false;

  private constructor(
    options: BenchOptions,
    net: Network,
    backendLine: string,
    engine: string,
    threads: number | null,
  ) {
    this.options = options;
    this.#net = net;
    this.#adam = adamFor(net);
    this.#images = randomImages(net.config.batchSize, net.config.imageSize, 1);
    this.#backendLine = backendLine;
    this.#engine = engine;
    this.#threads = threads;
  }

  /** Initialises the backend and builds the network. */
  static async create(options: BenchOptions): Promise<HarnessBench> {
    const info = await initBackend(options.backend, { threads: options.threads });
    const overrides: Record<string, string> = options.batch ? { batchSize: String(options.batch) } : {};
    const config = resolveConfig(options.model, options.config, overrides);
    const net = buildNetwork(config, RandomStream.derive(1, "init"));
    return new HarnessBench(options, net, describeBackend(info), info.engine, info.threads ?? null);
  }

  #sample(): void {
    // maxRSS is the kernel's high-water mark (KiB): it also sees peaks inside a step.
    this.#peak = Math.max(this.#peak, Deno.memoryUsage().rss, process.resourceUsage().maxRSS * 1024);
  }

  /** Times `steps` training steps and one scoring pass over the batch (warming up on the first call). */
  async measure(): Promise<TrainBenchResult> {
    const { model, config, steps } = this.options;
    if (!this.#warm) {
      await trainStep(this.#net, this.#adam, this.#images, this.#noise);
      this.#sample();
    }
    const started = performance.now();
    for (let i = 0; i < steps; i++) {
      await trainStep(this.#net, this.#adam, this.#images, this.#noise);
      this.#sample();
    }
    const trainSeconds = (performance.now() - started) / 1000;
    const scorer = new TrainedModel(this.#net, 1, 0);
    if (!this.#warm) await scoreImages(scorer, this.#images);
    this.#warm = true;
    const scoreStart = performance.now();
    await scoreImages(scorer, this.#images);
    const scoreSeconds = (performance.now() - scoreStart) / 1000;
    this.#sample();
    const batch = this.#images.length;
    return {
      model,
      config,
      backend: this.#backendLine,
      engine: this.#engine,
      threads: this.#threads,
      batch,
      steps,
      train_img_per_s: (batch * steps) / trainSeconds,
      score_img_per_s: batch / scoreSeconds,
      peak_rss_mb: this.#peak / 2 ** 20,
    };
  }

  /** Frees the network and optimiser. */
  dispose(): void {
    this.#adam.dispose();
    this.#net.dispose();
    void tf.memory();
  }
}

const TORCH_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), "torch_reference", "bench.py");

/** A python executable that imports torch, or null. */
export async function findTorchPython(): Promise<string | null> {
  const candidates = [Deno.env.get("VTADL_TORCH_PYTHON"), "python3", "/usr/bin/python3"].filter(
    (c): c is string => !!c,
  );
  for (const python of candidates) {
    try {
      const { success } = await new Deno.Command(python, {
        args: ["-c", "import torch"],
        stdout: "null",
        stderr: "null",
      }).output();
      if (success) return python;
    } catch {
      // not installed: try the next
    }
  }
  return null;
}

/** Runs the PyTorch yardstick once and returns its JSON line. */
export async function runTorch(python: string, o: BenchOptions, batch: number): Promise<TrainBenchResult> {
  const args = [
    TORCH_SCRIPT,
    "--model",
    o.model,
    "--config",
    o.config,
    "--batch",
    String(batch),
    "--steps",
    String(o.steps),
    ...(o.threads ? ["--threads", String(o.threads)] : []),
  ];
  const { success, stdout, stderr } = await new Deno.Command(python, { args }).output();
  const text = new TextDecoder().decode(stdout).trim();
  if (!success) {
    throw new Error(
      `PyTorch yardstick failed: ${new TextDecoder().decode(stderr).trim().split("\n").at(-1)}`,
    );
  }
  return JSON.parse(text.split("\n").at(-1)!) as TrainBenchResult;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function formatLine(r: TrainBenchResult): string {
  return `${r.model}/${r.config} ${r.backend}: batch ${r.batch} × ${r.steps} steps, train ${
    r.train_img_per_s.toPrecision(3)
  } img/s, score ${r.score_img_per_s.toPrecision(3)} img/s, peak RSS ${r.peak_rss_mb.toFixed(0)} MB`;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      model: { type: "string", default: "vtadl" },
      config: { type: "string", default: "smoke" },
      backend: { type: "string", default: "auto" },
      batch: { type: "string" },
      steps: { type: "string", default: "3" },
      threads: { type: "string" },
      rounds: { type: "string", default: "1" },
      json: { type: "boolean", default: false },
      "vs-torch": { type: "boolean", default: false },
    },
  });
  const fail = (message: string): never => {
    console.error(`bench:train: ${message}`);
    Deno.exit(2);
  };
  if (!MODEL_NAMES.includes(values.model as ModelName)) {
    fail(`--model must be one of ${MODEL_NAMES.join(", ")}`);
  }
  if (!(BACKEND_CHOICES as readonly string[]).includes(values.backend)) {
    fail(`--backend must be one of ${BACKEND_CHOICES.join(", ")}`);
  }
  const positive = (name: string, text: string | undefined) => {
    if (text === undefined) return undefined;
    const n = Number(text);
    return Number.isInteger(n) && n > 0 ? n : fail(`--${name} must be a positive integer, got '${text}'`);
  };
  const options: BenchOptions = {
    model: values.model as ModelName,
    config: values.config,
    backend: values.backend as BackendChoice,
    batch: positive("batch", values.batch),
    steps: positive("steps", values.steps)!,
    threads: positive("threads", values.threads),
  };
  const rounds = positive("rounds", values.rounds)!;
  const print = (r: TrainBenchResult) => console.log(values.json ? JSON.stringify(r) : formatLine(r));
  const python = values["vs-torch"] ? await findTorchPython() : null;
  if (values["vs-torch"] && !python) {
    console.error(
      "bench:train: PyTorch not found (set VTADL_TORCH_PYTHON, or apt-get install python3-torch); " +
        "measuring the harness only",
    );
  }
  const bench = await HarnessBench.create(options);
  const ours: TrainBenchResult[] = [];
  const theirs: TrainBenchResult[] = [];
  for (let round = 0; round < rounds; round++) {
    const result = await bench.measure();
    ours.push(result);
    print(result);
    if (python) {
      const torch = await runTorch(python, options, result.batch);
      theirs.push(torch);
      print(torch);
    }
  }
  if (theirs.length > 0) {
    const ratio = {
      ratio_train: median(ours.map((r) => r.train_img_per_s)) / median(theirs.map((r) => r.train_img_per_s)),
      ratio_score: median(ours.map((r) => r.score_img_per_s)) / median(theirs.map((r) => r.score_img_per_s)),
      rounds,
    };
    console.log(
      values.json
        ? JSON.stringify(ratio)
        : `harness / PyTorch (median of ${rounds}): train ${ratio.ratio_train.toFixed(2)}×, score ${
          ratio.ratio_score.toFixed(2)
        }×`,
    );
  }
  bench.dispose();
}
