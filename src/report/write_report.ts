/**
 * Reads the run records of a runs folder, renders every dataset's paper-layout table and the
 * leaderboard, and writes them as markdown (atomically): `<out>/tables/<dataset>.md`,
 * `<out>/leaderboard.md` and `<out>/report.md` (all of it), and the HTML leaderboard with its export
 * (`<out>/leaderboard/index.html`, `<out>/leaderboard/results.json`; `write_leaderboard.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { readMergedRunRecords, type RecordPreference } from "../runs/merge.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { datasetsOf, renderDatasetTable, renderLeaderboard } from "./tables.ts";
import { renderBreakdownTables, renderDialectTables, renderEfficiencyTable } from "./run_extras.ts";
import { writeLeaderboard } from "./write_leaderboard.ts";

/** Options of {@linkcode writeReport}. */
export interface WriteReportOptions {
  /** Folder of run folders. Default `reports/runs`. */
  runsDir?: string;
  /** Several folders of run folders (workers' outputs), merged; replaces `runsDir` when given. */
  runsDirs?: string[];
  /** Which of two different records of one cell wins (default: refuse, see `runs/merge.ts`). */
  prefer?: RecordPreference;
  /** Where the markdown goes. Default `reports`. */
  outDir?: string;
  /** Only these datasets (default: every dataset with records). */
  datasets?: string[];
}

/** What {@linkcode writeReport} produced. */
export interface WrittenReport {
  /** The whole report as markdown. */
  markdown: string;
  /** Paths written. */
  files: string[];
  /** Unreadable records and other problems. */
  warnings: string[];
  /** Number of records read. */
  recordCount: number;
}

/**
 * Renders and writes the report from run records only.
 *
 * @example
 * ```ts
 * const { markdown } = await writeReport({ runsDir: "reports/runs", outDir: "reports" });
 * console.log(markdown);
 * ```
 */
export async function writeReport(
  { runsDir = "reports/runs", runsDirs, prefer, outDir = "reports", datasets }: WriteReportOptions = {},
): Promise<WrittenReport> {
  const dirs = runsDirs ?? [runsDir];
  const merged = await readMergedRunRecords(dirs, { prefer });
  const { warnings } = merged;
  const records = merged.entries.map((e) => e.record);
  const selected = datasets ? records.filter((r) => datasets.includes(r.dataset.name)) : records;
  const files: string[] = [];
  const sections: string[] = [];
  for (const dataset of datasetsOf(selected)) {
    const md = [renderDatasetTable(dataset, selected), renderDialectTables(dataset, selected)]
      .concat(renderBreakdownTables(dataset, selected)).filter((s) => s !== "").join("\n");
    const path = join(outDir, "tables", `${dataset}.md`);
    await writeFileAtomic(path, md);
    files.push(path);
    sections.push(md);
  }
  const leaderboard = [renderLeaderboard(selected), renderEfficiencyTable(selected)].filter((s) => s !== "")
    .join("\n");
  const leaderboardPath = join(outDir, "leaderboard.md");
  await writeFileAtomic(leaderboardPath, leaderboard);
  files.push(leaderboardPath);
  sections.push(leaderboard);
  const markdown = [
    "# vtadl-bench report",
    "",
    `Rendered from ${selected.length} run record(s) in ${dirs.map((d) => `\`${d}\``).join(", ")}.`,
    "",
    ...sections,
  ].join("\n");
  const reportPath = join(outDir, "report.md");
  await writeFileAtomic(reportPath, markdown);
  files.push(reportPath);
  const html = await writeLeaderboard(
    merged.entries.filter((e) => selected.includes(e.record)),
    outDir,
  );
  files.push(...html.files);
  return { markdown, files, warnings, recordCount: selected.length };
}
