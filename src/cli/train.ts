/**
 * `train` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `train` subcommand. */
export const command: Command = {
  name: "train",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("train: not built yet");
    return Promise.resolve(1);
  },
};
