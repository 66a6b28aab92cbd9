/**
 * `model-summary` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `model-summary` subcommand. */
export const command: Command = {
  name: "model-summary",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("model-summary: not built yet");
    return Promise.resolve(1);
  },
};
