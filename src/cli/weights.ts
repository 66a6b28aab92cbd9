/**
 * `weights convert --from FILE [--from FILE2] --to OUT [--to OUT2]`: converts VT-ADL weights between the
 * original code's `.pt` pair (`VT_AE_*.pt` + `G_estimate_*.pt`), safetensors with the original's key names
 * and layouts, and the harness checkpoint. The input format is read from the content, the output format
 * from the name; every tensor is checked against `--config` (default `code`) first, and each output is
 * written atomically.
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";
import { loadWeightFiles, outputFiles, saveWeights } from "../weights/weight_files.ts";
import { defineCommand, oneOf, repeatedFlag } from "./command.ts";
import { CONFIG_FLAGS, configFromFlags, MODEL_FLAG } from "./flags.ts";

const ACTIONS = ["convert"] as const;

/** The `weights` subcommand. */
export const command = defineCommand({
  name: "weights",
  summary: "Convert weights: original .pt pair ↔ safetensors ↔ harness checkpoint",
  usage: "convert --from FILE [--from FILE2] --to OUT [--to OUT2] [--config NAME] [--set key=value]...",
  description:
    "Reads a harness checkpoint (.ckpt), a safetensors file (original key names) or the original " +
    "code's two .pt files (VT_AE_*.pt and G_estimate_*.pt, either order), and writes OUT as the format its " +
    "name says: VT_AE_<name>.pt (its G_estimate_<name>.pt is written beside it), <name>.safetensors or " +
    "<name>.ckpt. Every key and shape is checked against the config first.",
  flags: {
    ...MODEL_FLAG,
    ...CONFIG_FLAGS,
    config: { ...CONFIG_FLAGS.config, default: "code" as const },
    from: repeatedFlag({ description: "Input weight file (twice for the .pt pair).", valueName: "FILE" }),
    to: repeatedFlag({ description: "Output file (twice to name both .pt files).", valueName: "OUT" }),
  },
  positionals: { min: 1, max: 1, names: "convert" },
  async run(flags, positionals) {
    oneOf("ACTION", positionals[0], ACTIONS);
    if (flags.from.length === 0) throw new UsageError("weights convert: --from is required");
    if (flags.to.length === 0) throw new UsageError("weights convert: --to is required");
    const config = configFromFlags(flags.model, flags.config, flags.set, "code");
    const target = outputFiles(flags.to);
    const clash = target.paths.find((p) => flags.from.includes(p));
    if (clash) throw new UsageError(`--to ${clash} is also an input; choose another output name`);
    const weights = await loadWeightFiles(flags.from, config);
    await saveWeights(weights.params, config, target, { sources: weights.sources, steps: weights.steps });
    const from = weights.sources.map((s) => `${s.name} (${s.format}, sha256 ${s.sha256.slice(0, 12)})`);
    console.log(
      `converted ${from.join(" + ")} → ${target.paths.join(" + ")} (${target.format}, config ${config.name})`,
    );
    return 0;
  },
});
