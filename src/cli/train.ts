/**
 * `train`: trains one model on one category with a pinned seed, printing one progress line per epoch and
 * writing checkpoints plus a `train.json` run record (config, hash, backend, losses) to `--out`.
 *
 * @module
 */
import { join } from "node:path";
import { type Command, numberFlag, UsageError } from "./command.ts";
import {
  ConfigError,
  configHash,
  MODEL_KINDS,
  type ModelKind,
  parseSetFlags,
  resolveConfig,
} from "../models/configs.ts";
import { BACKEND_CHOICES, type BackendChoice, describeBackend, initBackend } from "../train/backend.ts";
import { loadTrainingSplit } from "../train/data_source.ts";
import { DATASET_NAMES, type DatasetName } from "../datasets/lock.ts";
import { formatEpochLine, TrainingInterrupted, trainModel } from "../train/trainer.ts";
import { writeJsonAtomic } from "../util/atomic_write.ts";

/** The `train` subcommand. */
export const command: Command = {
  name: "train",
  summary: "Train one model on one category with a pinned seed",
  usage: "--dataset D --category C --model M --config NAME --seed N [--backend B] [--set key=value]...",
  description:
    "Checkpoints go to OUT/checkpoints (last.ckpt each epoch, best.ckpt per the config's policy); " +
    "Ctrl-C stops after the current step and --resume continues bit-identically.",
  flags: {
    dataset: {
      type: "string",
      description: "mvtec, btad, mnist, fashion-mnist or synthetic",
      valueName: "D",
    },
    category: { type: "string", description: "Category / product / normal class", valueName: "C" },
    model: { type: "string", description: "vtadl, ae-mse or ae-ssim", default: "vtadl", valueName: "M" },
    config: {
      type: "string",
      description: "smoke, quick, mnist, code or paper",
      default: "smoke",
      valueName: "NAME",
    },
    seed: { type: "string", description: "Seed of every random stream", default: "0", valueName: "N" },
    backend: {
      type: "string",
      description: BACKEND_CHOICES.join(", "),
      default: "auto",
      valueName: "B",
    },
    threads: {
      type: "string",
      description: "onnxruntime threads [default: VTADL_THREADS or all CPUs]",
      valueName: "N",
    },
    set: { type: "string", multiple: true, description: "Override a config field", valueName: "KEY=VALUE" },
    "data-dir": { type: "string", description: "Dataset folder", default: "data", valueName: "DIR" },
    out: {
      type: "string",
      description: "Run folder [default: reports/runs/train/D/C/M-NAME-seedN]",
      valueName: "DIR",
    },
    resume: { type: "boolean", description: "Continue from OUT/checkpoints/last.ckpt" },
    offline: { type: "boolean", description: "Do not download; use what is in --data-dir" },
    mirror: {
      type: "string",
      multiple: true,
      description: "Dataset mirror (URL or folder), tried before the lock's URLs",
      valueName: "URL",
    },
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const dataset = flags.dataset as string | undefined;
    const category = flags.category as string | undefined;
    if (!dataset || !category) throw new UsageError("train: --dataset and --category are required");
    if (!DATASET_NAMES.includes(dataset as DatasetName)) {
      throw new UsageError(`--dataset: expected one of ${DATASET_NAMES.join(", ")}, got '${dataset}'`);
    }
    const model = flags.model as string;
    if (!MODEL_KINDS.includes(model as ModelKind)) {
      throw new UsageError(`--model: expected one of ${MODEL_KINDS.join(", ")}, got '${model}'`);
    }
    const backend = flags.backend as string;
    if (!(BACKEND_CHOICES as readonly string[]).includes(backend)) {
      throw new UsageError(`--backend: expected one of ${BACKEND_CHOICES.join(", ")}, got '${backend}'`);
    }
    const threads = numberFlag(flags, "threads", { integer: true, min: 1, max: 1024 });
    const seed = numberFlag(flags, "seed", { integer: true, min: 0, max: 2 ** 53 - 1 })!;
    let config;
    try {
      config = resolveConfig(
        model as ModelKind,
        flags.config as string,
        parseSetFlags((flags.set as string[]) ?? []),
      );
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    const out = (flags.out as string | undefined) ??
      join("reports", "runs", "train", dataset, category, `${model}-${config.name}-seed${seed}`);
    const info = await initBackend(backend as BackendChoice, { threads });
    console.log(`backend: ${describeBackend(info)}`);
    const split = await loadTrainingSplit({
      dataset,
      category,
      dataDir: flags["data-dir"] as string,
      config,
      offline: flags.offline === true,
      mirrors: flags.mirror as string[] | undefined,
    });
    console.log(
      `training ${model}/${config.name} on ${dataset}/${category}: ${split.train.length} images, ` +
        `${config.epochs} epochs, seed ${seed}, config ${configHash(config).slice(0, 12)}`,
    );
    const controller = new AbortController();
    const onSigint = () => controller.abort();
    Deno.addSignalListener("SIGINT", onSigint);
    const seconds: number[] = [];
    try {
      const result = await trainModel({
        model: model as ModelKind,
        config,
        seed,
        train: split.train,
        checkpointDir: join(out, "checkpoints"),
        resume: flags.resume === true,
        signal: controller.signal,
        onEpoch: (report) => {
          seconds.push(report.seconds);
          const mean = seconds.reduce((a, b) => a + b, 0) / seconds.length;
          console.log(formatEpochLine(report, config.epochs, mean));
        },
      });
      await writeJsonAtomic(join(out, "train.json"), {
        dataset,
        category,
        model,
        seed,
        config,
        configHash: configHash(config),
        backend: info,
        trainImages: split.train.length,
        bestEpoch: result.bestEpoch,
        epochs: result.epochs,
        seconds: result.seconds,
      });
      console.log(`done: best epoch ${result.bestEpoch}, checkpoints in ${join(out, "checkpoints")}`);
      result.model.dispose();
      return 0;
    } catch (error) {
      if (error instanceof TrainingInterrupted) {
        console.error(
          `interrupted: rerun with --resume to continue from ${join(out, "checkpoints", "last.ckpt")}`,
        );
        return 130;
      }
      throw error;
    } finally {
      Deno.removeSignalListener("SIGINT", onSigint);
    }
  },
};
