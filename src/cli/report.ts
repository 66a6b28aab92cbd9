/**
 * `report` subcommand: renders the paper-layout tables and the leaderboard from run records, writes
 * them as markdown and prints them.
 *
 * @module
 */
import { defineCommand, repeatedFlag, stringFlag } from "./command.ts";
import { writeReport } from "../report/write_report.ts";

/** The `report` subcommand. */
export const command = defineCommand({
  name: "report",
  summary: "Render paper tables and the leaderboard from run records",
  usage: "[--runs DIR] [--out DIR] [--dataset NAME]...",
  description:
    "Reads <runs>/<run-id>/result.json only; writes <out>/tables/<dataset>.md, <out>/leaderboard.md, " +
    "<out>/report.md, and the HTML leaderboard <out>/leaderboard/index.html with its export " +
    "<out>/leaderboard/results.json (docs/leaderboard.md) atomically, and prints the report.",
  flags: {
    runs: stringFlag({ description: "Folder of run records.", default: "reports/runs", valueName: "DIR" }),
    out: stringFlag({ description: "Where to write the markdown.", default: "reports", valueName: "DIR" }),
    dataset: repeatedFlag({ description: "Only this dataset.", valueName: "NAME" }),
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const report = await writeReport({
      runsDir: flags.runs,
      outDir: flags.out,
      datasets: flags.dataset.length > 0 ? flags.dataset : undefined,
    });
    for (const w of report.warnings) console.error(`warning: ${w}`);
    console.log(report.markdown);
    console.error(`report: ${report.recordCount} record(s); wrote ${report.files.join(", ")}`);
    return 0;
  },
});
