/**
 * `reproduce` subcommand: download/verify a dataset, then for every category × model × seed train,
 * score, evaluate and write a run record; finally print a summary and the tables in the paper's layout.
 * With no arguments it runs the offline default: the generated `synthetic` dataset with a small config.
 *
 * @module
 */
import { join } from "node:path";
import { DATASET_NAMES, DATASETS } from "../core/datasets.ts";
import { UsageError } from "../core/errors.ts";
import { MODEL_NAMES, MODELS } from "../core/models.ts";
import { parseSetFlags } from "../models/configs.ts";
import { EVAL_RESOLUTIONS } from "../runs/record.ts";
import type { PipelineDeps } from "../pipeline/deps.ts";
import { renderCellSummary, type ReproduceOptions, runReproduce } from "../pipeline/runner.ts";
import { writeReport } from "../report/write_report.ts";
import {
  booleanFlag,
  defineCommand,
  enumFlag,
  type FlagValues,
  listFlag,
  numberFlag,
  oneOf,
  stringFlag,
} from "./command.ts";
import { BACKEND_FLAG, CHECKPOINT_FLAGS, CONFIG_FLAGS, DATA_FLAGS, DIALECTS_FLAG } from "./flags.ts";
import { selectDialectVariants } from "../core/metrics.ts";
import { EFFICIENCY_PROTOCOL_NAMES } from "../eval/efficiency.ts";
import { listenForInterrupt } from "./interrupt.ts";

const FLAGS = {
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
};

/** Turns parsed flags and the dataset positional into pipeline options (usage errors for bad values). */
export function reproduceOptionsFromFlags(
  flags: FlagValues<typeof FLAGS>,
  positionals: string[],
): ReproduceOptions {
  const dataset = oneOf("DATASET", positionals[0] ?? "synthetic", DATASET_NAMES);
  const spec = DATASETS[dataset];
  const modelFlag = flags.model ?? spec.defaultModels;
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
    dialects: flags.dialects !== undefined ? selectDialectVariants(flags.dialects) : undefined,
    breakdown: !flags["no-breakdown"],
    efficiency: flags.efficiency,
  };
}

/** Runs a reproduction with the given deps and prints progress, summary and tables; returns the exit code. */
export async function runReproduceCommand(options: ReproduceOptions, deps: PipelineDeps): Promise<number> {
  const interrupt = listenForInterrupt("reproduce");
  const started = performance.now();
  try {
    const result = await runReproduce({ ...options, signal: interrupt.signal }, deps);
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
    if (result.interrupted) {
      console.error("reproduce: interrupted; run the same command again to continue where it stopped");
      return 130;
    }
    return result.outcomes.some((o) => o.status === "aborted") ? 1 : 0;
  } finally {
    interrupt.dispose();
  }
}

/** The `reproduce` subcommand. */
export const command = defineCommand({
  name: "reproduce",
  summary: "Download, train, score and evaluate; print tables in the paper's layout",
  usage:
    "[DATASET] [--model M|all] [--config NAME] [--seeds N | --seed S] [--categories a,b] [--backend B] " +
    "[--data-dir DIR] [--out DIR] [--restart] [--mirror URL]...",
  description: `DATASET is one of ${DATASET_NAMES.join(", ")} (default synthetic: generated offline, ` +
    "finishes in minutes on 2 CPU cores). Run records go to <out>/runs/<run-id>/ (result.json, " +
    "events.jsonl, panels/); completed cells are skipped on a rerun, and an interrupted cell continues " +
    "from its checkpoint (--restart trains from scratch).",
  flags: FLAGS,
  positionals: { min: 0, max: 1, names: "DATASET" },
  async run(flags, positionals) {
    const options = reproduceOptionsFromFlags(flags, positionals);
    const { loadRealDeps } = await import("../pipeline/real_deps.ts");
    return await runReproduceCommand(options, await loadRealDeps());
  },
});
