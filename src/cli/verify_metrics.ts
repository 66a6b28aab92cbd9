/**
 * `verify-metrics`: checks the metric engine against hand-derived golden cases and brute-force
 * definitions on seeded random cases (see `src/metrics/verification.ts`), prints a pass/fail table and
 * exits 1 on any failure. Needs no download and no permission beyond reading the program.
 *
 * @module
 */
import { runVerification } from "../metrics/verification.ts";
import type { VerificationReport } from "../metrics/verification.ts";
import { booleanFlag, defineCommand, numberFlag } from "./command.ts";

/** Renders the pass/fail table of a verification report. */
export function renderVerification(report: VerificationReport): string {
  const rows = report.groups.map((g) => [
    g.failed === 0 ? "PASS" : "FAIL",
    g.name,
    String(g.cases),
    String(g.failed),
    g.maxError === 0 ? "0" : g.maxError.toExponential(1),
  ]);
  const header = ["", "check", "cases", "failed", "max |diff|"];
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)));
  const line = (cells: string[]) =>
    cells.map((s, c) => (c === 1 || c === 0 ? s.padEnd(widths[c]) : s.padStart(widths[c]))).join("  ");
  const lines = [line(header), ...rows.map(line), ""];
  for (const g of report.groups) {
    if (g.firstFailure) lines.push(`first failure in "${g.name}": ${g.firstFailure}`);
  }
  lines.push(
    `${report.failedCases === 0 ? "PASS" : "FAIL"}: ${
      report.totalCases - report.failedCases
    }/${report.totalCases} cases ` +
      `in ${report.seconds.toFixed(2)} s`,
  );
  return lines.join("\n");
}

/** The `verify-metrics` subcommand. */
export const command = defineCommand({
  name: "verify-metrics",
  summary: "Check the metric engine against golden cases and brute-force definitions",
  usage: "[--seed N] [--cases N] [--json]",
  description: "Golden cases derived by hand, then seeded random cases (ties, tiny and odd shapes, " +
    "corner-touching pixels, defect-free images, float64 maps) where AUROC, AP, PR-AUC, regions, " +
    "pixel AUROC and AU-PRO (3 FPR modes) are compared with brute-force definitions, then bad-input " +
    "errors. Exit code 1 on any failure.",
  flags: {
    seed: numberFlag({
      description: "Seed of the random cases.",
      integer: true,
      min: 0,
      max: 2 ** 32 - 1,
      default: 20210421,
      valueName: "N",
    }),
    cases: numberFlag({
      description: "Random cases per group.",
      integer: true,
      min: 0,
      max: 1e6,
      default: 300,
      valueName: "N",
    }),
    json: booleanFlag("Print the report as JSON."),
  },
  positionals: { min: 0, max: 0 },
  run(flags) {
    const report = runVerification({ seed: flags.seed, randomCases: flags.cases });
    console.log(flags.json ? JSON.stringify(report, null, 2) : renderVerification(report));
    return Promise.resolve(report.failedCases === 0 ? 0 : 1);
  },
});
