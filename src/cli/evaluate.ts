/**
 * `evaluate` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `evaluate` subcommand. */
export const command: Command = {
  name: "evaluate",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("evaluate: not built yet");
    return Promise.resolve(1);
  },
};
