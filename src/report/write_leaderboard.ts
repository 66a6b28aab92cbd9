/**
 * Writes the HTML leaderboard and its machine-readable export, atomically:
 * `<out>/leaderboard/index.html` (self-contained: plots as inline SVG, one heat-map panel per row as a
 * data URI, the others shown from their files) and `<out>/leaderboard/results.json`
 * (`vtadl-bench/leaderboard-results@1`, see `docs/leaderboard.md`).
 *
 * @module
 */
import { createHash } from "node:crypto";
import { Buffer } from "node:buffer";
import { join, relative, sep } from "node:path";
import type { RunRecord } from "../runs/record.ts";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic_write.ts";
import { pathExists } from "../util/fs.ts";
import { buildLeaderboard, leaderboardResults, type LeaderboardRun } from "./leaderboard_data.ts";
import { renderLeaderboardHtml } from "./leaderboard_html.ts";
import { renderLeaderboardPlots } from "./leaderboard_plots.ts";

/** A run record and the path of the `result.json` it was read from (the run store's shape). */
export interface LocatedRecord {
  record: RunRecord;
  path: string;
}

/** What {@linkcode writeLeaderboard} wrote. */
export interface WrittenLeaderboard {
  /** `index.html` and `results.json` paths. */
  files: string[];
  rows: number;
  plots: number;
}

/**
 * Panels of one row embedded in the page as data URIs (the rest are shown from their files, relative to
 * the page). Panels of noisy maps compress badly (~0.2–0.3 MB each), so one per row keeps the page at
 * about a third of a MB per row while the page alone still shows every row's best-scored defect.
 */
const EMBEDDED_PANELS_PER_ROW = 1;

function toUrlPath(path: string): string {
  return path.split(sep).map(encodeURIComponent).join("/");
}

/**
 * Renders and writes the leaderboard page and `results.json` into `<outDir>/leaderboard/`.
 *
 * @example
 * ```ts
 * const { records } = await readRunRecords("reports/runs");
 * await writeLeaderboard(
 *   records.map((record) => ({ record, path: `reports/runs/${record.runId}/result.json` })),
 *   "reports",
 * );
 * ```
 */
export async function writeLeaderboard(
  located: LocatedRecord[],
  outDir: string,
  { generatedAt = new Date() }: { generatedAt?: Date } = {},
): Promise<WrittenLeaderboard> {
  const dir = join(outDir, "leaderboard");
  const absoluteOf = new Map<string, string>();
  const runs: LeaderboardRun[] = [];
  for (const { record, path: file } of located) {
    const bytes = await Deno.readFile(file);
    const path = toUrlPath(relative(dir, file));
    absoluteOf.set(path, file);
    runs.push({ record, path, sha256: createHash("sha256").update(bytes).digest("hex") });
  }
  const board = buildLeaderboard(runs);
  const embeddedPanels = new Map<string, string>();
  for (const row of board.rows) {
    const kept: typeof row.panels = [];
    for (const panel of row.panels) {
      const file = join(absoluteOf.get(panel.run.path)!, "..", panel.artifact);
      if (!(await pathExists(file))) continue; // listed but gone: no link that does not resolve
      kept.push(panel);
      if (kept.length <= EMBEDDED_PANELS_PER_ROW) {
        embeddedPanels.set(
          panel.path,
          `data:image/png;base64,${Buffer.from(await Deno.readFile(file)).toString("base64")}`,
        );
      }
    }
    row.panels = kept;
  }
  const plots = await renderLeaderboardPlots(board);
  const html = renderLeaderboardHtml({ board, plots, embeddedPanels, generatedAt });
  const htmlPath = join(dir, "index.html");
  const jsonPath = join(dir, "results.json");
  await writeFileAtomic(htmlPath, html);
  await writeJsonAtomic(jsonPath, leaderboardResults(board, generatedAt));
  return { files: [htmlPath, jsonPath], rows: board.rows.length, plots: plots.length };
}
