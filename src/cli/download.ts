/**
 * `download` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `download` subcommand. */
export const command: Command = {
  name: "download",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("download: not built yet");
    return Promise.resolve(1);
  },
};
