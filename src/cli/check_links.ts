/**
 * `check-links` subcommand: checks every mirror URL of `datasets.lock.json` (HEAD, a small Range GET, and
 * for small files a full download and hash; `src/datasets/link_check.ts`), prints one row per URL and
 * exits 1 when any URL fails.
 *
 * @module
 */
import { booleanFlag, defineCommand, listFlag, numberFlag, stringFlag } from "./command.ts";
import type { LinkReport } from "../datasets/link_check.ts";

const mark = (v: boolean | null) => (v === null ? "—" : v ? "yes" : "NO");

/** The per-URL table of a link check. */
export function renderLinkReports(reports: LinkReport[]): string {
  const rows = [
    ["", "dataset/file", "reachable", "range", "size matches", "hash matches", "serves HTML", "url"],
    ...reports.map((r) => [
      r.ok ? "ok" : "FAIL",
      `${r.dataset}/${r.file}`,
      r.reachable ? `yes (${r.rangeStatus})` : `NO (${r.headStatus ?? "—"}/${r.rangeStatus ?? "—"})`,
      mark(r.rangeSupported),
      r.expectedSizes.length === 0 ? `not pinned (${r.size ?? "?"})` : mark(r.sizeMatches),
      r.hashed ? mark(r.hashMatches) : "not fetched",
      r.servesHtml ? "YES" : "no",
      r.url,
    ]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd());
  for (const r of reports.filter((r) => !r.ok)) {
    lines.push(`${r.dataset}/${r.file} ${r.url}: ${r.problems.join("; ")}`);
  }
  const failed = reports.filter((r) => !r.ok).length;
  lines.push(`${failed === 0 ? "PASS" : "FAIL"}: ${reports.length - failed}/${reports.length} URLs ok`);
  return lines.join("\n");
}

/** The `check-links` subcommand. */
export const command = defineCommand({
  name: "check-links",
  summary: "Check every dataset URL of the lock: reachable, size, hash, not an HTML page",
  usage: "[--lock FILE] [--datasets a,b] [--full-limit BYTES] [--timeout S] [--json]",
  description: "For every mirror URL in the lock: a HEAD and a Range GET of the first bytes (the archive's " +
    "magic bytes must be there; an HTML page fails), the announced size against the pinned sizes, and for " +
    "files up to --full-limit bytes a full download hashed against the accepted copies. A 200 alone is " +
    "never a pass. Exit code 1 when any URL fails.",
  flags: {
    lock: stringFlag({ description: "Dataset lock file.", default: "datasets.lock.json", valueName: "FILE" }),
    datasets: listFlag({ description: "Only these datasets.", valueName: "a,b" }),
    "full-limit": numberFlag({
      description: "Download and hash files up to this many bytes.",
      integer: true,
      min: 0,
      default: 16_000_000,
      valueName: "BYTES",
    }),
    timeout: numberFlag({ description: "Seconds per request.", min: 0.1, default: 30, valueName: "S" }),
    json: booleanFlag("Print the reports as JSON."),
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const { loadLock } = await import("../datasets/lock.ts");
    const { checkLinks } = await import("../datasets/link_check.ts");
    const lock = await loadLock(flags.lock);
    const reports = await checkLinks(lock, {
      datasets: flags.datasets,
      fullDownloadLimit: flags["full-limit"],
      timeoutMs: flags.timeout * 1000,
      log: (line) => console.error(line),
    });
    console.log(flags.json ? JSON.stringify(reports, null, 2) : renderLinkReports(reports));
    return reports.every((r) => r.ok) ? 0 : 1;
  },
});
