/**
 * `metrics` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `metrics` subcommand. */
export const command: Command = {
  name: "metrics",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("metrics: not built yet");
    return Promise.resolve(1);
  },
};
