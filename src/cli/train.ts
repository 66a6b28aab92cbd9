/**
 * `train`: trains one model on one category with a pinned seed, printing one progress line per epoch and
 * writing checkpoints plus a `train.json` run record (config, hash, training key, preprocessing, backend,
 * losses) to `--out`. It plans its one cell exactly as `reproduce` does, so both preprocess and identify
 * the training the same way.
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import { parseSetFlags } from "../models/configs.ts";
import { describeBackend, initBackend } from "../train/backend.ts";
import { describeResume } from "../train/identity.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { planCells, resolveRequestConfigs } from "../pipeline/plan.ts";
import { defineCommand, numberFlag, stringFlag } from "./command.ts";
import {
  BACKEND_FLAG,
  CHECKPOINT_FLAGS,
  CONFIG_FLAGS,
  DATA_FLAGS,
  DATASET_FLAG,
  MODEL_FLAG,
} from "./flags.ts";
import { listenForInterrupt } from "./interrupt.ts";

/** The `train` subcommand. */
export const command = defineCommand({
  name: "train",
  summary: "Train one model on one category with a pinned seed",
  usage: "--dataset D --category C [--model M] [--config NAME] [--seed N] [--backend B] [--set key=value]...",
  description:
    "Checkpoints go to OUT/checkpoints (last.ckpt each epoch, best.ckpt per the config's policy). " +
    "Ctrl-C stops after the current step and saves the state; running the same command again continues " +
    "bit-identically (--restart starts over). A checkpoint of another training run is refused.",
  flags: {
    ...DATASET_FLAG,
    category: stringFlag({ description: "Category / product / normal class.", valueName: "C" }),
    ...MODEL_FLAG,
    ...CONFIG_FLAGS,
    config: { ...CONFIG_FLAGS.config, default: "smoke" as const },
    seed: numberFlag({
      description: "Seed of every random stream.",
      integer: true,
      min: 0,
      max: 2 ** 53 - 1,
      default: 0,
      valueName: "N",
    }),
    ...BACKEND_FLAG,
    ...DATA_FLAGS,
    out: stringFlag({
      description: "Run folder [default: reports/runs/train/D/C/M-NAME-seedN].",
      valueName: "DIR",
    }),
    ...CHECKPOINT_FLAGS,
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const { dataset, category } = flags;
    if (!dataset || !category) throw new UsageError("train: --dataset and --category are required");
    if (flags.resume && flags.restart) throw new UsageError("--resume and --restart are exclusive");
    const request = {
      dataset,
      models: [flags.model],
      configName: flags.config,
      configOverrides: parseSetFlags(flags.set),
      seeds: [flags.seed],
    };
    resolveRequestConfigs(request); // a bad --config or --set stops here, before any download
    const { ensureDataset } = await import("../datasets/ensure.ts");
    const { listCategories, loadCategorySplit } = await import("../datasets/loaders.ts");
    const { loadPlannedSplit } = await import("../pipeline/cell.ts");
    const { TrainingInterrupted, formatEpochLine, trainModel } = await import("../train/trainer.ts");
    const ensured = await ensureDataset(dataset, {
      dataDir: flags["data-dir"],
      lockPath: flags.lock,
      mirrors: flags.mirror,
      offline: flags.offline,
      acceptLicense: flags["accept-license"],
    });
    const available = await listCategories(dataset, ensured.root);
    if (!available.includes(category)) {
      throw new UsageError(`--category: ${dataset} has ${available.join(", ")}, got '${category}'`);
    }
    const [plan] = planCells(request, { contentDigest: ensured.manifestSha256, categories: [category] });
    const { config } = plan;
    const out = flags.out ??
      join("reports", "runs", "train", dataset, category, `${flags.model}-${config.name}-seed${flags.seed}`);
    const info = await initBackend(flags.backend, { threads: flags.threads });
    console.log(`backend: ${describeBackend(info)}`);
    const split = await loadPlannedSplit(
      { loadCategorySplit },
      ensured.root,
      plan,
      join(flags["data-dir"], ".cache"),
    );
    const { resize, crop } = plan.preprocess;
    console.log(
      `training ${flags.model}/${config.name} on ${dataset}/${category}: ${split.train.length} images ` +
        `(resize ${resize}, crop ${crop}), ${config.epochs} epochs, seed ${flags.seed}, config ` +
        `${plan.configHash.slice(0, 12)}`,
    );
    const interrupt = listenForInterrupt("train");
    const seconds: number[] = [];
    const checkpointDir = join(out, "checkpoints");
    try {
      const result = await trainModel({
        model: flags.model,
        config,
        seed: flags.seed,
        train: split.train,
        data: plan.training.data,
        checkpointDir,
        checkpoint: flags.restart ? "restart" : "resume",
        signal: interrupt.signal,
        onResume: (from) => console.log(describeResume(from, config.epochs)),
        onEpoch: (report) => {
          seconds.push(report.seconds);
          const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
          console.log(formatEpochLine(report, config.epochs, mean));
        },
      });
      await writeJsonAtomic(join(out, "train.json"), {
        dataset,
        category,
        model: flags.model,
        seed: flags.seed,
        config,
        configHash: plan.configHash,
        trainingKey: plan.trainingKey,
        lockDigest: ensured.lockDigest,
        contentDigest: ensured.manifestSha256,
        preprocess: plan.preprocess,
        backend: info,
        trainImages: split.train.length,
        resumedFrom: result.resumedFrom,
        bestEpoch: result.bestEpoch,
        epochs: result.epochs,
        seconds: result.seconds,
      });
      console.log(`done: best epoch ${result.bestEpoch}, checkpoints in ${checkpointDir}`);
      result.model.dispose();
      return 0;
    } catch (error) {
      if (error instanceof TrainingInterrupted) {
        console.error(`interrupted: ${error.message}; run the same command again to continue`);
        return 130;
      }
      throw error;
    } finally {
      interrupt.dispose();
    }
  },
});
