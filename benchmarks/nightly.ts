/**
 * `deno task nightly`: the nightly benchmark in one command. Gates, in order (docs/nightly.md):
 *
 * 1. metric: `verify-metrics` and the golden metric vectors of `benchmarks/golden/` (exact match);
 * 2. model: `reproduce` of the profile's suites with N seeds, mean ± std per metric against
 *    `benchmarks/baseline.json` (fail outside mean ± max(k·std, floor));
 * 3. determinism: the seed-0 cells again, bit-identical anomaly maps (digests);
 * 4. performance: training/scoring img/s, AU-PRO time, download/extract MB/s as speed ratios
 *    (reported; fails only on a large drop);
 * 5. checks: `check:gradients` (full profile) and `download --verify` of every installed dataset.
 *
 * Writes `<reports>/<date>/summary.json` and `summary.md` and exits 1 on a regression, 2 on a usage
 * error. `--update-baseline` rewrites the profile's baseline from this run, recording the commit.
 *
 * @module
 */
import { cpus } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { booleanFlag, defineCommand, listFlag, numberFlag, stringFlag } from "../src/cli/command.ts";
import { UsageError } from "../src/core/errors.ts";
import { DATASET_NAMES, type DatasetName } from "../src/core/datasets.ts";
import { codeVersion } from "../src/eval/environment.ts";
import { runVerification } from "../src/metrics/verification.ts";
import { BASELINE_SCHEMA, type ProfileBaseline, readBaseline, writeBaseline } from "./nightly/baseline.ts";
import { compareGoldenCase, readGoldenDir } from "./nightly/golden.ts";
import {
  determinismRows,
  modelBaselineEntries,
  type ModelGateContext,
  modelRows,
  runSuite,
  type SuiteRun,
} from "./nightly/model_gate.ts";
import { measurePerformance, perfBaselineEntries, type PerfFigure, performanceRows } from "./nightly/perf.ts";
import { FULL_PROFILE, type NightlyProfile, QUICK_PROFILE } from "./nightly/profiles.ts";
import {
  type GateName,
  type GateOutcome,
  GATES,
  type NightlySummary,
  renderSummaryMarkdown,
  type SummaryRow,
  writeSummary,
} from "./nightly/summary.ts";

const log = (line: string) => console.error(line);

/** Metric gate: verify-metrics, then every golden case. */
async function metricGate(profile: NightlyProfile, goldenDir: string): Promise<SummaryRow[]> {
  const report = runVerification({ randomCases: profile.verifyCases });
  const rows: SummaryRow[] = [{
    gate: "metric",
    name: `verify-metrics (${report.totalCases} cases)`,
    baseline: "0 failed",
    now: `${report.failedCases} failed`,
    rule: "every case passes",
    result: report.failedCases === 0 ? "pass" : "fail",
  }];
  for (const c of await readGoldenDir(goldenDir)) {
    for (const r of compareGoldenCase(c)) {
      rows.push({
        gate: "metric",
        name: `golden ${r.name}`,
        baseline: String(r.expected),
        now: String(r.actual),
        rule: r.rule === "exact" ? "identical (full precision)" : "new key: regenerate the golden files",
        result: r.rule === "new-key" ? "warn" : r.pass ? "pass" : "fail",
      });
    }
  }
  return rows;
}

/** Datasets installed in `dataDir` (those with an install marker). */
async function installedDatasets(dataDir: string): Promise<DatasetName[]> {
  const { MARKER_FILE } = await import("../src/datasets/installed.ts");
  const found: DatasetName[] = [];
  for (const name of DATASET_NAMES) {
    try {
      await Deno.stat(join(dataDir, name, MARKER_FILE));
      found.push(name);
    } catch {
      // not installed
    }
  }
  return found;
}

/** Checks gate: the full-shape gradient check (full profile) and `download --verify` of installed data. */
async function checksGate(
  profile: NightlyProfile,
  dataDir: string,
  lockPath: string,
): Promise<{ rows: SummaryRow[]; notes: string[] }> {
  const rows: SummaryRow[] = [], notes: string[] = [];
  if (profile.slowChecks) {
    log("nightly: check:gradients");
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--config",
        fileURLToPath(new URL("../deno.json", import.meta.url)),
        "--allow-read",
        "--allow-env",
        "--allow-ffi",
        "--allow-sys",
        fileURLToPath(new URL("./gradient_check.ts", import.meta.url)),
      ],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const lines = new TextDecoder().decode(stdout).trim().split("\n").filter((l) => l !== "");
    for (const skipped of lines.filter((l) => / skipped \(/.test(l))) {
      notes.push(`check:gradients ${skipped}`);
    }
    const checked = lines.filter((l) => /^(ok|FAIL)\b/.test(l));
    rows.push({
      gate: "checks",
      name: "check:gradients (code decoder, full shapes)",
      baseline: "all layers within 1e-3 of cpu",
      now: `${checked.filter((l) => l.startsWith("FAIL")).length}/${checked.length} failed`,
      rule: "exit code 0",
      result: code === 0 ? (checked.length === 0 ? "skip" : "pass") : "fail",
    });
  } else notes.push("check:gradients: full profile only");
  const { ensureDataset } = await import("../src/datasets/ensure.ts");
  for (const dataset of await installedDatasets(dataDir)) {
    log(`nightly: download --verify ${dataset}`);
    let now = "every file matches", result: SummaryRow["result"] = "pass";
    try {
      await ensureDataset(dataset, { dataDir, lockPath, offline: true, quiet: true, verify: true });
    } catch (error) {
      now = error instanceof Error ? error.message : String(error);
      result = "fail";
    }
    rows.push({
      gate: "checks",
      name: `download --verify ${dataset}`,
      baseline: "installed files",
      now,
      rule: "hashes match the install record",
      result,
    });
  }
  return { rows, notes };
}

function machineDescription(profile: NightlyProfile): string {
  const list = cpus();
  return `${list[0]?.model ?? "unknown CPU"}, ${list.length} logical cores, backend ${profile.backend}`;
}

/** Options of {@linkcode runNightly}. */
export interface NightlyOptions {
  profile: NightlyProfile;
  seeds: number;
  gates: GateName[];
  baselinePath: string;
  goldenDir: string;
  reportsDir: string;
  dataDir: string;
  lockPath: string;
  date: string;
  updateBaseline: boolean;
  /** Keep the model gate's completed cells from an earlier run of the same day (an interrupted run). */
  reuseWork?: boolean;
}

/** Runs the selected gates, writes the summary (and the baseline when asked); returns the summary. */
export async function runNightly(o: NightlyOptions): Promise<NightlySummary> {
  const started = new Date();
  const t0 = performance.now();
  const dayDir = join(o.reportsDir, o.date);
  const workDir = join(dayDir, "work");
  // The work folder is this command's own output: a fresh one, so no record is skipped and no checkpoint
  // is continued (the determinism gate needs both runs to train from scratch).
  // With --reuse-work the model gate's completed cells of an earlier run that day are kept (reproduce skips
  // a cell whose completed record has the same cell key); the determinism runs are always fresh.
  for (const stale of o.reuseWork ? ["determinism-a", "determinism-b"] : [""]) {
    await Deno.remove(join(workDir, stale), { recursive: true }).catch(() => {});
  }
  const baseline = await readBaseline(o.baselinePath);
  const base = baseline.profiles[o.profile.name];
  const rows: SummaryRow[] = [];
  const gates: GateOutcome[] = [];
  let modelRuns: SuiteRun[] | null = null;
  let figures: PerfFigure[] | null = null;
  // The pipeline (tfjs, onnxruntime, sharp) is loaded only when a gate that trains runs.
  let modelContext: ModelGateContext | null = null;
  const context = async (): Promise<ModelGateContext> => {
    const { loadRealDeps } = await import("../src/pipeline/real_deps.ts");
    return modelContext ??= {
      profile: o.profile,
      deps: await loadRealDeps(),
      seeds: o.seeds,
      dataDir: o.dataDir,
      workDir,
      log,
    };
  };

  const gate = async (name: GateName, body: () => Promise<{ rows: SummaryRow[]; notes?: string[] }>) => {
    if (!o.gates.includes(name)) {
      gates.push({ gate: name, status: "skipped", seconds: 0, notes: ["not selected (--gates)"] });
      return;
    }
    log(`nightly: ${name} gate`);
    const t = performance.now();
    try {
      const result = await body();
      rows.push(...result.rows);
      const failed = result.rows.some((r) => r.result === "fail");
      gates.push({
        gate: name,
        status: failed ? "fail" : "pass",
        seconds: (performance.now() - t) / 1000,
        notes: result.notes ?? [],
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      log(`nightly: ${name} gate failed: ${message}`);
      gates.push({ gate: name, status: "fail", seconds: (performance.now() - t) / 1000, notes: [message] });
    }
  };

  await gate("metric", async () => ({ rows: await metricGate(o.profile, o.goldenDir) }));
  await gate("model", async () => {
    const seeds = Array.from({ length: o.seeds }, (_, i) => i);
    modelRuns = [];
    for (const suite of o.profile.suites) {
      modelRuns.push(await runSuite(await context(), suite, seeds, join(workDir, "model", suite.dataset)));
    }
    const found = modelRows(modelRuns, base, o.profile.name);
    const notes = modelRuns.filter((r) => r.skipped).map((r) => `${r.skipped}: skipped`);
    return { rows: found, notes };
  });
  await gate("determinism", async () => determinismRows(await context(), modelRuns));
  await gate("performance", async () => {
    const measured = await measurePerformance(o.profile, log);
    figures = measured.figures;
    return { rows: performanceRows(measured.figures, base), notes: measured.notes };
  });
  await gate("checks", () => checksGate(o.profile, o.dataDir, o.lockPath));

  const code = await codeVersion();
  if (o.updateBaseline) {
    const entry: ProfileBaseline = {
      commit: code,
      createdAt: new Date().toISOString(),
      machine: machineDescription(o.profile),
      model: modelRuns ? modelBaselineEntries(modelRuns, base) : base?.model ?? {},
      performance: figures ? perfBaselineEntries(figures, base, o.profile) : base?.performance ?? {},
    };
    await writeBaseline(o.baselinePath, {
      schema: BASELINE_SCHEMA,
      profiles: { ...baseline.profiles, [o.profile.name]: entry },
    });
    // The comparisons above were against the baseline being replaced: report them, do not fail on them.
    for (const r of rows) {
      if ((r.gate === "model" || r.gate === "performance") && r.result === "fail") {
        r.result = "warn";
        r.rule += " (baseline rewritten by this run)";
      }
    }
    for (const g of gates) {
      if ((g.gate === "model" || g.gate === "performance") && g.status === "fail" && g.notes.length === 0) {
        g.status = "pass";
      }
    }
    log(`nightly: baseline '${o.profile.name}' rewritten in ${o.baselinePath}`);
  }
  const regression = gates.some((g) => g.status === "fail") || rows.some((r) => r.result === "fail");
  const summary: NightlySummary = {
    schema: "vtadl-bench/nightly-summary@1",
    profile: o.profile.name,
    date: o.date,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    seconds: (performance.now() - t0) / 1000,
    code,
    baselinePath: o.baselinePath,
    goldenDir: o.goldenDir,
    baselineUpdated: o.updateBaseline,
    gates,
    rows,
    regression,
  };
  const files = await writeSummary(dayDir, summary);
  log(
    `nightly: ${regression ? "REGRESSION" : "pass"} in ${(summary.seconds / 60).toFixed(1)} min; ${
      files.join(", ")
    }`,
  );
  return summary;
}

/** The `nightly` command (declared with the project's typed CLI layer). */
export const command = defineCommand({
  name: "nightly",
  summary: "Nightly benchmark: metric, model, determinism and performance gates against the baseline",
  usage: "[--quick] [--seeds N] [--gates a,b] [--update-baseline] [--baseline FILE] [--golden DIR] " +
    "[--reports DIR] [--data-dir DIR]",
  description: "Runs the gates, writes <reports>/<date>/summary.json and summary.md (a diff table) and " +
    "exits 1 on a regression. Gates: " + GATES.join(", ") + ". See docs/nightly.md.",
  flags: {
    quick: booleanFlag("Tiny cells on the cpu backend (tests, a first look); its own baseline profile."),
    seeds: numberFlag({
      description: "Seeds of the model gate.",
      integer: true,
      min: 1,
      max: 20,
      default: 3,
      valueName: "N",
    }),
    gates: listFlag({ description: `Gates to run (default all: ${GATES.join(",")}).`, valueName: "a,b" }),
    "update-baseline": booleanFlag("Rewrite the profile's baseline from this run (records the commit)."),
    "reuse-work": booleanFlag(
      "Continue an interrupted run of the same day: reuse the model gate's completed cells (the " +
        "determinism runs are always fresh).",
    ),
    baseline: stringFlag({
      description: "Baseline file.",
      default: "benchmarks/baseline.json",
      valueName: "FILE",
    }),
    golden: stringFlag({
      description: "Golden metric vectors folder.",
      default: "benchmarks/golden",
      valueName: "DIR",
    }),
    reports: stringFlag({
      description: "Summaries go to DIR/<date>/.",
      default: "reports/nightly",
      valueName: "DIR",
    }),
    "data-dir": stringFlag({ description: "Datasets folder.", default: "data", valueName: "DIR" }),
    lock: stringFlag({ description: "Dataset lock file.", default: "datasets.lock.json", valueName: "FILE" }),
    date: stringFlag({
      description: "Date of the report folder (default: today, UTC).",
      valueName: "YYYY-MM-DD",
    }),
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    const gates = (flags.gates ?? [...GATES]).map((g) => {
      if (!(GATES as readonly string[]).includes(g)) {
        throw new UsageError(`--gates: expected some of ${GATES.join(", ")}, got '${g}'`);
      }
      return g as GateName;
    });
    const date = flags.date ?? new Date().toISOString().slice(0, 10);
    if (!/^\d{4}-\d{2}-\d{2}$/.test(date)) throw new UsageError(`--date: expected YYYY-MM-DD, got '${date}'`);
    const summary = await runNightly({
      profile: flags.quick ? QUICK_PROFILE : FULL_PROFILE,
      seeds: flags.seeds,
      gates,
      baselinePath: flags.baseline,
      goldenDir: flags.golden,
      reportsDir: flags.reports,
      dataDir: flags["data-dir"],
      lockPath: flags.lock,
      date,
      updateBaseline: flags["update-baseline"],
      reuseWork: flags["reuse-work"],
    });
    console.log(renderSummaryMarkdown(summary));
    return summary.regression ? 1 : 0;
  },
});

if (import.meta.main) {
  let code: number;
  try {
    code = await command.main(Deno.args);
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    code = error instanceof UsageError ? 2 : 1;
  }
  Deno.exit(code);
}
