/**
 * `reproduce` subcommand: download/verify a dataset, then for every category × model × seed train,
 * score, evaluate and write a run record; finally print a summary and the tables in the paper's layout.
 * With no arguments it runs the offline default: the generated `synthetic` dataset with a small config.
 *
 * @module
 */
import { join } from "node:path";
import { type Command, type FlagValues, numberFlag, UsageError } from "./command.ts";
import type { DatasetName, ModelName, PipelineDeps } from "../eval/deps.ts";
import { IMAGE_SCORE_VARIANTS, type ImageScoreVariant } from "../eval/image_score.ts";
import { renderCellSummary, type ReproduceOptions, runReproduce } from "../eval/pipeline.ts";
import { writeReport } from "../report/write_report.ts";
import { parseSetFlags } from "../models/configs.ts";
import { BACKEND_CHOICES } from "../train/backend.ts";

const DATASETS: DatasetName[] = ["synthetic", "mvtec", "btad", "mnist", "fashion-mnist"];
const MODELS: ModelName[] = ["vtadl", "ae-mse", "ae-ssim"];

/** The config each dataset uses when `--config` is not given. */
export const DEFAULT_CONFIG: Record<DatasetName, string> = {
  synthetic: "smoke",
  mnist: "mnist",
  "fashion-mnist": "mnist",
  mvtec: "code",
  btad: "code",
};

function oneOf<T extends string>(flag: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new UsageError(`--${flag}: expected one of ${allowed.join(", ")}, got '${value}'`);
  }
  return value as T;
}

function parseOverrides(values: string[]): Record<string, string> {
  try {
    return parseSetFlags(values);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** Turns parsed flags and the dataset positional into pipeline options (usage errors for bad values). */
export function reproduceOptionsFromFlags(flags: FlagValues, positionals: string[]): ReproduceOptions {
  const dataset = oneOf("dataset", positionals[0] ?? "synthetic", DATASETS);
  // The offline default compares all three models (VT-ADL and both baselines) in a few minutes.
  const modelFlag = (flags.model as string | undefined) ?? (dataset === "synthetic" ? "all" : "vtadl");
  const models = modelFlag === "all" ? MODELS : [oneOf("model", modelFlag, MODELS)];
  if (flags.seeds !== undefined && flags.seed !== undefined) {
    throw new UsageError(
      "--seeds and --seed are exclusive: --seeds N runs seeds 0..N-1, --seed S runs seed S",
    );
  }
  const seed = numberFlag(flags, "seed", { min: 0, integer: true });
  const nSeeds = numberFlag(flags, "seeds", { min: 1, max: 100, integer: true }) ?? 1;
  const seeds = seed !== undefined ? [seed] : Array.from({ length: nSeeds }, (_, i) => i);
  const categories = flags.categories
    ? (flags.categories as string).split(",").map((c) => c.trim()).filter((c) => c !== "")
    : undefined;
  const score = flags.score === undefined
    ? undefined
    : oneOf("score", flags.score as string, IMAGE_SCORE_VARIANTS) as ImageScoreVariant;
  const dataDir = flags["data-dir"] as string;
  const maxTrain = numberFlag(flags, "max-train", { min: 2, integer: true });
  const maxTest = numberFlag(flags, "max-test", { min: 2, integer: true });
  return {
    dataset,
    models,
    configName: (flags.config as string | undefined) ?? DEFAULT_CONFIG[dataset],
    configOverrides: parseOverrides((flags.set as string[] | undefined) ?? []),
    seeds,
    categories,
    backend: oneOf("backend", flags.backend as string, BACKEND_CHOICES),
    threads: numberFlag(flags, "threads", { integer: true, min: 1, max: 1024 }),
    dataDir,
    outDir: flags.out as string,
    cacheDir: join(dataDir, ".cache"),
    resume: flags.resume === true,
    mirrors: (flags.mirror as string[] | undefined) ?? [],
    offline: flags.offline === true,
    acceptLicense: flags["accept-license"] === true,
    evalResolution: oneOf<"preprocessed" | "original">(
      "eval-resolution",
      flags["eval-resolution"] as string,
      [
        "preprocessed",
        "original",
      ],
    ),
    imageScore: score,
    heatmapSigma: numberFlag(flags, "heatmap-sigma", { min: 0 }),
    panels: numberFlag(flags, "panels", { min: 0, max: 20, integer: true }) ?? 2,
    limits: maxTrain === undefined && maxTest === undefined ? undefined : { maxTrain, maxTest },
  };
}

/** Runs a reproduction with the given deps and prints progress, summary and tables; returns the exit code. */
export async function runReproduceCommand(options: ReproduceOptions, deps: PipelineDeps): Promise<number> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = () => {
    signals++;
    if (signals > 1) Deno.exit(130);
    console.error(
      "\nreproduce: interrupt received; recording the current cell as aborted (again to quit at once)",
    );
    controller.abort();
  };
  // SIGINT (Ctrl-C) and SIGTERM (kill, CI timeouts) both leave an `aborted` record and resumable checkpoints.
  const signalNames: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  const added: Deno.Signal[] = [];
  for (const name of signalNames) {
    try {
      Deno.addSignalListener(name, onSignal);
      added.push(name);
    } catch {
      // signal unavailable on this platform: no graceful interrupt for it
    }
  }
  const started = performance.now();
  try {
    const result = await runReproduce({ ...options, signal: controller.signal }, deps);
    console.error("\n" + renderCellSummary(result.outcomes));
    const report = await writeReport({
      runsDir: join(options.outDir, "runs"),
      outDir: options.outDir,
      datasets: [options.dataset],
    });
    for (const w of report.warnings) console.error(`warning: ${w}`);
    console.log(report.markdown);
    const minutes = ((performance.now() - started) / 60000).toFixed(1);
    console.error(
      `reproduce: ${result.outcomes.length} cell(s) in ${minutes} min; tables in ${report.files.join(", ")}`,
    );
    if (result.interrupted) return 130;
    return result.outcomes.some((o) => o.status === "aborted") ? 1 : 0;
  } finally {
    for (const name of added) Deno.removeSignalListener(name, onSignal);
  }
}

/** The `reproduce` subcommand. */
export const command: Command = {
  name: "reproduce",
  summary: "Download, train, score and evaluate; print tables in the paper's layout",
  usage: "[DATASET] [--model vtadl|ae-mse|ae-ssim|all] [--config NAME] [--seeds N | --seed S] " +
    "[--categories a,b] [--backend B] [--data-dir DIR] [--out DIR] [--resume] [--mirror URL]...",
  description:
    `DATASET is one of ${DATASETS.join(", ")} (default synthetic: generated offline, finishes in ` +
    "minutes on 2 CPU cores). Run records go to <out>/runs/<run-id>/ (result.json, events.jsonl, panels/); " +
    "completed cells with the same config hash are skipped on a rerun.",
  flags: {
    model: {
      type: "string",
      description: "Model to run, or all three (default: all on synthetic, vtadl elsewhere).",
      valueName: "M",
    },
    config: {
      type: "string",
      description: "Named config (smoke, quick, mnist, code, paper); default by dataset (synthetic: smoke, " +
        "mnist/fashion-mnist: mnist, mvtec/btad: code).",
      valueName: "NAME",
    },
    set: { type: "string", multiple: true, description: "Config override key=value.", valueName: "K=V" },
    seeds: { type: "string", description: "Run seeds 0..N-1 (default 1 seed: 0).", valueName: "N" },
    seed: { type: "string", description: "Run this one seed.", valueName: "S" },
    categories: {
      type: "string",
      description: "Comma-separated subset of categories/classes.",
      valueName: "a,b",
    },
    backend: {
      type: "string",
      description: `${BACKEND_CHOICES.join(", ")}.`,
      default: "auto",
      valueName: "B",
    },
    threads: {
      type: "string",
      description: "onnxruntime threads (default: VTADL_THREADS or all CPUs).",
      valueName: "N",
    },
    "data-dir": { type: "string", description: "Datasets folder.", default: "data", valueName: "DIR" },
    out: {
      type: "string",
      description: "Reports folder (runs/, tables/).",
      default: "reports",
      valueName: "DIR",
    },
    resume: { type: "boolean", description: "Continue interrupted cells from their last checkpoint." },
    mirror: {
      type: "string",
      multiple: true,
      description: "Dataset mirror URL or local folder.",
      valueName: "URL",
    },
    offline: { type: "boolean", description: "Never use the network (data must be present)." },
    "accept-license": {
      type: "boolean",
      description: "Accept the dataset licence (MVTec AD: CC BY-NC-SA 4.0).",
    },
    "eval-resolution": {
      type: "string",
      description: "Pixel metrics at the preprocessed size or the original mask size.",
      default: "preprocessed",
      valueName: "R",
    },
    score: {
      type: "string",
      description:
        "VT-ADL image score: code, paper, nll or recon (default: by config; recon on MNIST-like sets).",
      valueName: "S",
    },
    "heatmap-sigma": {
      type: "string",
      description: "Gaussian σ of VT-ADL heat maps (0 = none).",
      valueName: "σ",
    },
    panels: {
      type: "string",
      description: "Heat-map panels: best and worst N per category.",
      valueName: "N",
    },
    "max-train": {
      type: "string",
      description: "Use at most N training images per category (evenly spaced; recorded as subsampled).",
      valueName: "N",
    },
    "max-test": {
      type: "string",
      description: "Use at most N test images per category (evenly spaced, normal/anomalous ratio kept).",
      valueName: "N",
    },
  },
  positionals: { min: 0, max: 1, names: "DATASET" },
  async run(flags, positionals) {
    const options = reproduceOptionsFromFlags(flags, positionals);
    const { loadRealDeps } = await import("../eval/real_deps.ts");
    return await runReproduceCommand(options, await loadRealDeps());
  },
};
