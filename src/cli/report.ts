/**
 * `report` subcommand (not built yet).
 *
 * @module
 */
import type { Command } from "./command.ts";

/** The `report` subcommand. */
export const command: Command = {
  name: "report",
  summary: "not built yet",
  usage: "",
  flags: {},
  positionals: { min: 0, max: 0 },
  run() {
    console.error("report: not built yet");
    return Promise.resolve(1);
  },
};
