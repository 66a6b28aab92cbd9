/**
 * The flags of `reproduce` and how they become pipeline options. `reproduce` and `plan` both declare
 * their flags from here, so a plan printed with some arguments lists exactly the cells `reproduce`
 * runs with the same arguments.
 *
 * @module
 */
import { join } from "node:path";
import { DATASET_NAMES, DATASETS } from "../core/datasets.ts";
import { UsageError } from "../core/errors.ts";
import { MODEL_NAMES, MODELS } from "../core/models.ts";
import { parseSetFlags } from "../models/configs.ts";
import { EVAL_RESOLUTIONS } from "../runs/record.ts";
import type { ReproduceOptions } from "../pipeline/runner.ts";
import { resolveSelection, type ShardEnvironment } from "../pipeline/shard.ts";
import {
  booleanFlag,
  enumFlag,
  type FlagValues,
  listFlag,
  numberFlag,
  oneOf,
  repeatedFlag,
  stringFlag,
} from "./command.ts";
import { BACKEND_FLAG, CHECKPOINT_FLAGS, CONFIG_FLAGS, DATA_FLAGS } from "./flags.ts";
import { DIALECTS_FLAG } from "./dialects_flag.ts";
import { selectDialectVariants } from "../core/metrics.ts";
import { EFFICIENCY_PROTOCOL_NAMES } from "../eval/efficiency.ts";

/** Every flag of `reproduce`; `plan` takes the same ones, so both see the same cells. */
export const REPRODUCE_FLAGS = {
  model: enumFlag([...MODEL_NAMES, "all"], {
    description: "Model to run, or all three (default: all on synthetic, vtadl elsewhere).",
    valueName: "M",
  }),
  ...CONFIG_FLAGS,
  config: {
    ...CONFIG_FLAGS.config,
    description: `Named config; default by dataset (${
      DATASET_NAMES.map((d) => `${d}: ${DATASETS[d].defaultConfig}`).join(", ")
    }).`,
  },
  seeds: numberFlag({
    description: "Run seeds 0..N-1 (default 1 seed: 0).",
    integer: true,
    min: 1,
    max: 100,
    valueName: "N",
  }),
  seed: numberFlag({
    description: "Run this one seed.",
    integer: true,
    min: 0,
    max: 2 ** 53 - 1,
    valueName: "S",
  }),
  categories: listFlag({ description: "Comma-separated subset of categories/classes.", valueName: "a,b" }),
  ...BACKEND_FLAG,
  ...DATA_FLAGS,
  out: stringFlag({
    description: "Reports folder (runs/, checkpoints/, tables/).",
    default: "reports",
    valueName: "DIR",
  }),
  ...CHECKPOINT_FLAGS,
  weights: repeatedFlag({
    description: "Score weights trained elsewhere instead of training: a .ckpt, a .safetensors, or the " +
      "original's two .pt files (--weights twice). One model and one category (--categories C).",
    valueName: "FILE",
  }),
  "eval-resolution": enumFlag(EVAL_RESOLUTIONS, {
    description: "Pixel metrics at the preprocessed size or the original mask size.",
    default: "preprocessed",
    valueName: "R",
  }),
  score: enumFlag(MODELS.vtadl.imageScores, {
    description: "VT-ADL image score (default: by config; recon on MNIST-like sets).",
    valueName: "S",
  }),
  "heatmap-sigma": numberFlag({
    description: "Gaussian σ of VT-ADL heat maps (0 = none).",
    min: 0,
    valueName: "σ",
  }),
  panels: numberFlag({
    description: "Heat-map panels: best and worst N per category.",
    integer: true,
    min: 0,
    max: 20,
    default: 2,
    valueName: "N",
  }),
  "max-train": numberFlag({
    description: "Use at most N training images per category (evenly spaced; recorded as subsampled).",
    integer: true,
    min: 2,
    valueName: "N",
  }),
  "max-test": numberFlag({
    description: "Use at most N test images per category (evenly spaced, normal/anomalous ratio kept).",
    integer: true,
    min: 2,
    valueName: "N",
  }),
  ...DIALECTS_FLAG,
  "no-breakdown": booleanFlag("Skip the per-defect-type image AUROC / AU-PRO breakdown."),
  efficiency: enumFlag(["auto", ...EFFICIENCY_PROTOCOL_NAMES, "off"], {
    description: "Efficiency protocol (latency/throughput after warm-up): auto = smoke for the smoke " +
      "config, standard otherwise; off = do not measure.",
    default: "auto",
    valueName: "P",
  }),
  shard: stringFlag({
    description: "Run only shard I of N (I from 0): the plan's cells at positions I, I+N, I+2N, … " +
      "Default: JOB_COMPLETION_INDEX/JOB_COMPLETIONS (Kubernetes) or SLURM_ARRAY_TASK_ID/" +
      "SLURM_ARRAY_TASK_COUNT (Slurm) when set, else every cell.",
    valueName: "I/N",
  }),
  cell: repeatedFlag({
    description: "Run only this cell (an id from 'deno task plan' with the same arguments).",
    valueName: "ID",
  }),
};

/**
 * Turns parsed flags and the dataset positional into pipeline options (usage errors for bad values).
 * `env` holds the batch engine's shard variables (`SHARD_ENV_NAMES`); they count only when neither
 * `--shard` nor `--cell` is given.
 */
export function reproduceOptionsFromFlags(
  flags: FlagValues<typeof REPRODUCE_FLAGS>,
  positionals: string[],
  env: ShardEnvironment = {},
): ReproduceOptions {
  const dataset = oneOf("DATASET", positionals[0] ?? "synthetic", DATASET_NAMES);
  const spec = DATASETS[dataset];
  const imported = flags.weights.length > 0;
  if (imported && (flags.seeds !== undefined || flags.seed !== undefined)) {
    throw new UsageError("--weights scores given weights: --seeds and --seed do not apply");
  }
  if (imported && (flags.model === "all" || flags["max-train"] !== undefined)) {
    throw new UsageError("--weights scores one model without training: pass one --model, no --max-train");
  }
  const modelFlag = flags.model ?? (imported ? "vtadl" : spec.defaultModels);
  if (flags.seeds !== undefined && flags.seed !== undefined) {
    throw new UsageError(
      "--seeds and --seed are exclusive: --seeds N runs seeds 0..N-1, --seed S runs seed S",
    );
  }
  if (flags.resume && flags.restart) throw new UsageError("--resume and --restart are exclusive");
  const seeds = flags.seed !== undefined
    ? [flags.seed]
    : Array.from({ length: flags.seeds ?? 1 }, (_, i) => i);
  const maxTrain = flags["max-train"], maxTest = flags["max-test"];
  return {
    dataset,
    models: modelFlag === "all" ? [...MODEL_NAMES] : [modelFlag],
    configName: flags.config ?? spec.defaultConfig,
    configOverrides: parseSetFlags(flags.set),
    seeds,
    categories: flags.categories,
    backend: flags.backend,
    threads: flags.threads,
    dataDir: flags["data-dir"],
    lockPath: flags.lock,
    outDir: flags.out,
    cacheDir: join(flags["data-dir"], ".cache"),
    checkpoint: flags.restart ? "restart" : "resume",
    mirrors: flags.mirror,
    offline: flags.offline,
    acceptLicense: flags["accept-license"],
    evalResolution: flags["eval-resolution"],
    imageScore: flags.score,
    heatmapSigma: flags["heatmap-sigma"],
    panels: flags.panels,
    limits: maxTrain === undefined && maxTest === undefined ? undefined : { maxTrain, maxTest },
    weightPaths: imported ? flags.weights : undefined,
    dialects: flags.dialects !== undefined ? selectDialectVariants(flags.dialects) : undefined,
    breakdown: !flags["no-breakdown"],
    efficiency: flags.efficiency,
    selection: resolveSelection({ shard: flags.shard, cells: flags.cell }, env),
  };
}
