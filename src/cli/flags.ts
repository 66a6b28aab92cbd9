/**
 * Flags shared by several commands, declared once; enum flags take their choices (and so their help
 * text and validation) from the registries in `src/core/` and `src/train/backend.ts`.
 *
 * @module
 */
import { DATASET_NAMES } from "../core/datasets.ts";
import { MODEL_NAMES } from "../core/models.ts";
import { CONFIG_NAMES, type ModelConfig, parseSetFlags, resolveConfig } from "../models/configs.ts";
import type { ModelName } from "../core/models.ts";
import { BACKEND_CHOICES } from "../train/backend.ts";
import { booleanFlag, enumFlag, numberFlag, repeatedFlag, stringFlag } from "./command.ts";

/** Where datasets live and how they may be fetched: `download`, `train` and `reproduce` take these. */
export const DATA_FLAGS = {
  "data-dir": stringFlag({ description: "Datasets folder.", default: "data", valueName: "DIR" }),
  mirror: repeatedFlag({
    description: "Dataset mirror (URL, file:// URL or folder; the file name is appended), tried before " +
      "the lock's URLs.",
    valueName: "URL",
  }),
  offline: booleanFlag("Never use the network: local mirrors and files already present only."),
  "accept-license": booleanFlag("Accept the dataset's licence (MVTec AD: CC BY-NC-SA 4.0); recorded once."),
  lock: stringFlag({ description: "Dataset lock file.", default: "datasets.lock.json", valueName: "FILE" }),
};

/** `--dataset` (for commands that name the dataset with a flag). */
export const DATASET_FLAG = {
  dataset: enumFlag(DATASET_NAMES, { description: "Dataset.", valueName: "D" }),
};

/** `--backend` and `--threads`. */
export const BACKEND_FLAG = {
  backend: enumFlag(BACKEND_CHOICES, {
    description: "Compute backend; auto picks the first that works and prints it.",
    default: "auto",
    valueName: "B",
  }),
  threads: numberFlag({
    description: "Threads of the onnxruntime engine (default: VTADL_THREADS, else every CPU); results are " +
      "bit-identical only for the same count.",
    integer: true,
    min: 1,
    max: 1024,
    valueName: "N",
  }),
};

/** `--model` for commands that handle one model. */
export const MODEL_FLAG = {
  model: enumFlag(MODEL_NAMES, { description: "Model.", default: "vtadl", valueName: "M" }),
};

/** `--config` and `--set`. */
export const CONFIG_FLAGS = {
  config: enumFlag(CONFIG_NAMES, { description: "Named config.", valueName: "NAME" }),
  set: repeatedFlag({
    description: "Override a config field (numbers, true/false, enum values, comma-separated lists).",
    valueName: "KEY=VALUE",
  }),
};

/** `--resume` / `--restart`: what to do with a compatible checkpoint (resume is the default). */
export const CHECKPOINT_FLAGS = {
  restart: booleanFlag("Start training over even when a compatible checkpoint exists (it is replaced)."),
  resume: booleanFlag("Continue from a compatible checkpoint (the default; kept for old scripts)."),
};

/**
 * The resolved config of `model` for `--config NAME` (or `fallback`) and every `--set`; an unknown key or
 * an ill-typed value is a usage error.
 *
 * @example
 * ```ts
 * const config = configFromFlags("vtadl", flags.config, flags.set, "smoke");
 * ```
 */
export function configFromFlags(
  model: ModelName,
  name: string | undefined,
  set: string[],
  fallback: string,
): ModelConfig {
  return resolveConfig(model, name ?? fallback, parseSetFlags(set));
}
