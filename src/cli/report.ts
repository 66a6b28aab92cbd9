/**
 * `report` subcommand: renders the paper-layout tables and the leaderboard from run records, writes
 * them as markdown and prints them.
 *
 * @module
 */
import type { Command } from "./command.ts";
import { writeReport } from "../report/write_report.ts";

/** The `report` subcommand. */
export const command: Command = {
  name: "report",
  summary: "Render paper tables and the leaderboard from run records",
  usage: "[--runs DIR] [--out DIR] [--dataset NAME]...",
  description:
    "Reads <runs>/<run-id>/result.json only; writes <out>/tables/<dataset>.md, <out>/leaderboard.md " +
    "and <out>/report.md atomically, and prints the report.",
  flags: {
    runs: {
      type: "string",
      description: "Folder of run records.",
      default: "reports/runs",
      valueName: "DIR",
    },
    out: {
      type: "string",
      description: "Where to write the markdown.",
      default: "reports",
      valueName: "DIR",
    },
    dataset: { type: "string", multiple: true, description: "Only this dataset.", valueName: "NAME" },
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const datasets = flags.dataset as string[] | undefined;
    const report = await writeReport({
      runsDir: flags.runs as string,
      outDir: flags.out as string,
      datasets: datasets && datasets.length > 0 ? datasets : undefined,
    });
    for (const w of report.warnings) console.error(`warning: ${w}`);
    console.log(report.markdown);
    console.error(`report: ${report.recordCount} record(s); wrote ${report.files.join(", ")}`);
    return 0;
  },
};
