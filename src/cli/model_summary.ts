/**
 * `model-summary`: prints the trainable parameter count per model part as JSON, computed from shapes
 * (nothing is allocated, so the 512² configs are instant).
 *
 * @module
 */
import { defineCommand } from "./command.ts";
import { CONFIG_FLAGS, configFromFlags, MODEL_FLAG } from "./flags.ts";
import { parameterCounts } from "../models/network.ts";

/** The `model-summary` subcommand. */
export const command = defineCommand({
  name: "model-summary",
  summary: "Print parameter counts per model part as JSON",
  usage: "[--model M] [--config NAME] [--set key=value]...",
  description:
    'Prints {"encoder","projection","decoder","mdn","total"}; VT-ADL `code` matches the original exactly.',
  flags: {
    ...MODEL_FLAG,
    ...CONFIG_FLAGS,
    config: { ...CONFIG_FLAGS.config, default: "code" as const },
  },
  positionals: { min: 0, max: 0 },
  run(flags) {
    const config = configFromFlags(flags.model, flags.config, flags.set, "code");
    console.log(JSON.stringify(parameterCounts(config)));
    return Promise.resolve(0);
  },
});
