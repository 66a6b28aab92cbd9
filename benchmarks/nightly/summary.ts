/**
 * The nightly summary: every compared value as one row (gate, name, baseline, now, rule, result), written
 * as `summary.json` and as the markdown diff table of `summary.md`.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../../src/util/atomic_write.ts";

/** The gates, in the order they run and are reported. */
export const GATES = ["metric", "model", "determinism", "performance", "checks"] as const;
/** A gate's name. */
export type GateName = typeof GATES[number];

/** One compared value. */
export interface SummaryRow {
  gate: GateName;
  name: string;
  baseline: string;
  now: string;
  rule: string;
  /** `fail` makes the run fail; `warn` is reported only (e.g. a slower figure inside the gate's limit). */
  result: "pass" | "fail" | "warn" | "skip";
}

/** A gate's overall outcome. */
export interface GateOutcome {
  gate: GateName;
  status: "pass" | "fail" | "skipped";
  seconds: number;
  notes: string[];
}

/** The content of `summary.json`. */
export interface NightlySummary {
  schema: "vtadl-bench/nightly-summary@1";
  profile: string;
  date: string;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  code: { commit: string; dirty: boolean } | null;
  baselinePath: string;
  goldenDir: string;
  baselineUpdated: boolean;
  gates: GateOutcome[];
  rows: SummaryRow[];
  /** True when any row or gate failed: the process exits 1. */
  regression: boolean;
}

function cell(text: string): string {
  return text.replaceAll("|", "\\|").replaceAll("\n", " ");
}

/** The markdown of `summary.md`: the gates, then the diff table (failures first). */
export function renderSummaryMarkdown(s: NightlySummary): string {
  const order = { fail: 0, warn: 1, pass: 2, skip: 3 };
  const rows = [...s.rows].sort((a, b) =>
    order[a.result] - order[b.result] || GATES.indexOf(a.gate) - GATES.indexOf(b.gate)
  );
  const code = s.code ? `${s.code.commit.slice(0, 12)}${s.code.dirty ? " (dirty)" : ""}` : "unknown";
  const lines = [
    `# Nightly ${s.date} (${s.profile}): ${s.regression ? "REGRESSION" : "pass"}`,
    "",
    `Code ${code}; baseline \`${s.baselinePath}\`${s.baselineUpdated ? " (rewritten by this run)" : ""}; ` +
    `golden vectors \`${s.goldenDir}\`; ${(s.seconds / 60).toFixed(1)} min.`,
    "",
    "| gate | status | time | notes |",
    "| --- | --- | --- | --- |",
    ...s.gates.map((g) =>
      `| ${g.gate} | ${g.status === "fail" ? "**FAIL**" : g.status} | ${g.seconds.toFixed(1)} s | ${
        cell(g.notes.join("; "))
      } |`
    ),
    "",
    "| gate | metric | baseline | now | rule | result |",
    "| --- | --- | --- | --- | --- | --- |",
    ...rows.map((r) =>
      `| ${r.gate} | ${cell(r.name)} | ${cell(r.baseline)} | ${cell(r.now)} | ${cell(r.rule)} | ${
        r.result === "fail" ? "**FAIL**" : r.result
      } |`
    ),
    "",
  ];
  return lines.join("\n");
}

/** Writes `summary.json` and `summary.md` into `dir`; returns their paths. */
export async function writeSummary(dir: string, summary: NightlySummary): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const json = join(dir, "summary.json"), md = join(dir, "summary.md");
  await writeFileAtomic(json, JSON.stringify(summary, null, 2) + "\n");
  await writeFileAtomic(md, renderSummaryMarkdown(summary));
  return [json, md];
}
