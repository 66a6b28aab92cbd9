/**
 * `model-summary`: prints the trainable parameter count per model part as JSON, computed from shapes
 * (nothing is allocated, so the 512² configs are instant).
 *
 * @module
 */
import { type Command, UsageError } from "./command.ts";
import { ConfigError, MODEL_KINDS, type ModelKind, parseSetFlags, resolveConfig } from "../models/configs.ts";
import { parameterCounts } from "../models/network.ts";

/** The `model-summary` subcommand. */
export const command: Command = {
  name: "model-summary",
  summary: "Print parameter counts per model part as JSON",
  usage: "--model vtadl|ae-mse|ae-ssim --config NAME [--set key=value]...",
  description:
    'Prints {"encoder","projection","decoder","mdn","total"}; VT-ADL `code` matches the original exactly.',
  flags: {
    model: { type: "string", description: "vtadl, ae-mse or ae-ssim", default: "vtadl", valueName: "M" },
    config: {
      type: "string",
      description: "smoke, quick, mnist, code or paper",
      default: "code",
      valueName: "NAME",
    },
    set: { type: "string", multiple: true, description: "Override a config field", valueName: "KEY=VALUE" },
  },
  positionals: { min: 0, max: 0 },
  run(flags) {
    const model = flags.model as string;
    if (!MODEL_KINDS.includes(model as ModelKind)) {
      throw new UsageError(`--model: expected one of ${MODEL_KINDS.join(", ")}, got '${model}'`);
    }
    try {
      const config = resolveConfig(
        model as ModelKind,
        flags.config as string,
        parseSetFlags((flags.set as string[]) ?? []),
      );
      console.log(JSON.stringify(parameterCounts(config)));
    } catch (error) {
      if (error instanceof ConfigError) throw new UsageError(error.message);
      throw error;
    }
    return Promise.resolve(0);
  },
};
