/**
 * `report` subcommand: renders the paper-layout tables and the leaderboard from run records, writes
 * them as markdown and prints them. Several `--runs` folders (the outputs of many workers) are merged into
 * one set of records; two different records of one cell are refused unless `--prefer` says which wins.
 *
 * @module
 */
import { defineCommand, repeatedFlag, stringFlag } from "./command.ts";
import { writeReport } from "../report/write_report.ts";
import { parsePreference } from "../runs/merge.ts";

/** The `report` subcommand. */
export const command = defineCommand({
  name: "report",
  summary: "Render paper tables and the leaderboard from run records",
  usage: "[--runs DIR]... [--prefer newest|DIR] [--out DIR] [--dataset NAME]...",
  description:
    "Reads <runs>/<run-id>/result.json only; writes <out>/tables/<dataset>.md, <out>/leaderboard.md, " +
    "<out>/report.md, and the HTML leaderboard <out>/leaderboard/index.html with its export " +
    "<out>/leaderboard/results.json (docs/leaderboard.md) atomically, and prints the report. Several " +
    "--runs folders are merged (one record per cell); identical copies of a record are fine, two " +
    "different records of one cell stop the report with both files named unless --prefer says which wins.",
  flags: {
    runs: repeatedFlag({
      description: "Folder of run records (default reports/runs); repeat to merge several workers' folders.",
      valueName: "DIR",
    }),
    prefer: stringFlag({
      description: "When two different records of one cell exist: 'newest' (later finish) or a --runs " +
        "folder whose record wins. Default: refuse.",
      valueName: "newest|DIR",
    }),
    out: stringFlag({ description: "Where to write the markdown.", default: "reports", valueName: "DIR" }),
    dataset: repeatedFlag({ description: "Only this dataset.", valueName: "NAME" }),
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const runsDirs = flags.runs.length > 0 ? flags.runs : ["reports/runs"];
    const report = await writeReport({
      runsDirs,
      prefer: parsePreference(flags.prefer, runsDirs),
      outDir: flags.out,
      datasets: flags.dataset.length > 0 ? flags.dataset : undefined,
    });
    for (const w of report.warnings) console.error(`warning: ${w}`);
    console.log(report.markdown);
    console.error(`report: ${report.recordCount} record(s); wrote ${report.files.join(", ")}`);
    return 0;
  },
});
