/**
 * `reproduce` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `reproduce` subcommand. */
export const command: Command = {
  name: "reproduce",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("reproduce: not built yet");
    return Promise.resolve(1);
  },
};
