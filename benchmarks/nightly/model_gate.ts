/**
 * The model gate and the determinism gate of the nightly run.
 *
 * - Model: `reproduce` (in-process, `runReproduce`) of each suite of the profile with seeds 0..N−1; every
 *   metric of every (dataset, category, model) becomes mean ± sample std over the seeds and is compared
 *   with the baseline by {@linkcode modelVerdict}.
 * - Determinism: the seed-0 cells once more, into a fresh folder (no checkpoint to continue, no record to
 *   skip), on the same backend; the anomaly maps' and image scores' digests (`outputs` of the run record,
 *   `src/eval/outputs_digest.ts`) must be identical.
 *
 * @module
 */
import { join } from "node:path";
import type { PipelineDeps } from "../../src/pipeline/deps.ts";
import { type FinishedCell, runReproduce } from "../../src/pipeline/runner.ts";
import type { RunRecord } from "../../src/runs/record.ts";
import { pathExists } from "../../src/util/fs.ts";
import {
  type BaselineFile,
  DEFAULT_MODEL_TOLERANCE,
  meanStd,
  modelVerdict,
  type ProfileBaseline,
} from "./baseline.ts";
import type { ModelSuite, NightlyProfile } from "./profiles.ts";
import type { SummaryRow } from "./summary.ts";

/** Where and how the gates run. */
export interface ModelGateContext {
  profile: NightlyProfile;
  deps: PipelineDeps;
  seeds: number;
  dataDir: string;
  /** Run records of this nightly go under here (a fresh folder). */
  workDir: string;
  log: (line: string) => void;
}

/** The cells of one suite, by seed. */
export interface SuiteRun {
  suite: ModelSuite;
  /** Null when the suite was skipped (its dataset's mirror is absent). */
  outcomes: FinishedCell[] | null;
  skipped?: string;
}

/** `<dataset>/<category>/<model>`. */
function cellName(r: RunRecord): string {
  return `${r.dataset.name}/${r.dataset.category}/${r.model}`;
}

/** Runs one suite with `seeds` into `outDir`, or says why it was skipped. */
export async function runSuite(
  ctx: ModelGateContext,
  suite: ModelSuite,
  seeds: number[],
  outDir: string,
  categories?: string[],
): Promise<SuiteRun> {
  if (suite.requiresMirror !== undefined && !(await pathExists(suite.requiresMirror))) {
    return { suite, outcomes: null, skipped: `${suite.dataset}: ${suite.requiresMirror} is absent` };
  }
  const result = await runReproduce({
    dataset: suite.dataset,
    models: suite.models,
    configName: suite.config,
    configOverrides: suite.set,
    seeds,
    categories: categories ?? suite.categories,
    limits: suite.maxTrain === undefined && suite.maxTest === undefined
      ? undefined
      : { maxTrain: suite.maxTrain, maxTest: suite.maxTest },
    backend: ctx.profile.backend,
    dataDir: ctx.dataDir,
    outDir,
    mirrors: suite.requiresMirror === undefined ? [] : [suite.requiresMirror],
    offline: true,
    panels: 0,
    log: ctx.log,
  }, ctx.deps);
  return { suite, outcomes: result.outcomes };
}

/** Every metric value of the completed cells, by `<dataset>/<category>/<model>/<metric>`, in seed order. */
export function collectMetrics(runs: SuiteRun[]): Map<string, number[]> {
  const values = new Map<string, number[]>();
  for (const run of runs) {
    for (const o of run.outcomes ?? []) {
      if (o.record.status !== "completed") continue;
      for (const m of o.record.metrics) {
        const key = `${cellName(o.record)}/${m.key}`;
        values.set(key, [...(values.get(key) ?? []), m.value]);
      }
    }
  }
  return values;
}

function formatStat(s: { mean: number; std: number; n: number }): string {
  return `${s.mean.toFixed(4)} ± ${s.std.toFixed(4)} (n=${s.n})`;
}

/** Compares the run's metrics with the profile's baseline: one row per metric (and per failed cell). */
export function modelRows(
  runs: SuiteRun[],
  base: ProfileBaseline | undefined,
  profile: string,
): SummaryRow[] {
  const rows: SummaryRow[] = [];
  for (const run of runs) {
    if (run.skipped) {
      rows.push({
        gate: "model",
        name: run.suite.dataset,
        baseline: "—",
        now: "—",
        rule: "suite runs",
        result: "skip",
      });
    }
    for (const o of run.outcomes ?? []) {
      if (o.record.status !== "completed") {
        rows.push({
          gate: "model",
          name: `${cellName(o.record)} seed ${o.seed}`,
          baseline: "completed",
          now: `${o.record.status}: ${o.record.error?.message ?? "?"}`,
          rule: "every cell completes",
          result: "fail",
        });
      }
    }
  }
  if (!base) {
    rows.push({
      gate: "model",
      name: `baseline profile '${profile}'`,
      baseline: "absent",
      now: "—",
      rule: "a baseline exists (run with --update-baseline)",
      result: "fail",
    });
    return rows;
  }
  const measured = collectMetrics(runs);
  const skippedDatasets = new Set(runs.filter((r) => r.skipped).map((r) => r.suite.dataset));
  for (const [key, entry] of Object.entries(base.model)) {
    const values = measured.get(key);
    if (!values) {
      const skipped = skippedDatasets.has(key.split("/")[0] as ModelSuite["dataset"]);
      rows.push({
        gate: "model",
        name: key,
        baseline: formatStat(entry),
        now: skipped ? "skipped" : "missing",
        rule: "measured",
        result: skipped ? "skip" : "fail",
      });
      continue;
    }
    const now = meanStd(values);
    const verdict = modelVerdict(entry, now.mean);
    rows.push({
      gate: "model",
      name: key,
      baseline: formatStat(entry),
      now: formatStat(now),
      rule: verdict.rule,
      result: verdict.pass ? "pass" : "fail",
    });
  }
  for (const [key, values] of measured) {
    if (!(key in base.model)) {
      rows.push({
        gate: "model",
        name: key,
        baseline: "—",
        now: formatStat(meanStd(values)),
        rule: "new metric: not in the baseline",
        result: "warn",
      });
    }
  }
  return rows;
}

/** The profile's model entries from this run, keeping the tolerances of entries that already exist. */
export function modelBaselineEntries(
  runs: SuiteRun[],
  previous: ProfileBaseline | undefined,
): ProfileBaseline["model"] {
  const entries: ProfileBaseline["model"] = {};
  for (const [key, values] of [...collectMetrics(runs)].sort(([a], [b]) => a.localeCompare(b))) {
    const { k, floor } = previous?.model[key] ?? DEFAULT_MODEL_TOLERANCE;
    entries[key] = { ...meanStd(values), k, floor };
  }
  return entries;
}

function seedZero(runs: SuiteRun[]): Map<string, RunRecord> {
  const records = new Map<string, RunRecord>();
  for (const run of runs) {
    for (const o of run.outcomes ?? []) if (o.seed === 0) records.set(cellName(o.record), o.record);
  }
  return records;
}

const short = (digest: string | null | undefined) =>
  digest === undefined ? "absent" : digest === null ? "none" : digest.slice(0, 16);

/**
 * The determinism gate: reruns the seed-0 cells of every suite into `<workDir>/determinism` and compares
 * output digests with `first` (the model gate's runs, or a first run made here when the model gate did not
 * run).
 */
export async function determinismRows(
  ctx: ModelGateContext,
  first: SuiteRun[] | null,
): Promise<{ rows: SummaryRow[]; notes: string[] }> {
  const rows: SummaryRow[] = [], notes: string[] = [];
  const firstRuns: SuiteRun[] = [];
  const secondRuns: SuiteRun[] = [];
  for (const [i, suite] of ctx.profile.suites.entries()) {
    const categories = suite.determinismCategories ?? suite.categories;
    const a = first?.[i] ??
      await runSuite(ctx, suite, [0], join(ctx.workDir, "determinism-a", suite.dataset), categories);
    if (a.skipped) {
      notes.push(`${a.skipped}: skipped`);
      continue;
    }
    firstRuns.push(a);
    secondRuns.push(
      await runSuite(ctx, suite, [0], join(ctx.workDir, "determinism-b", suite.dataset), categories),
    );
  }
  const before = seedZero(firstRuns), after = seedZero(secondRuns);
  for (const [name, b] of after) {
    const a = before.get(name);
    if (!a) continue;
    if (b.backend.deterministic === "no") {
      rows.push({
        gate: "determinism",
        name: `${name} seed 0`,
        baseline: "—",
        now: "—",
        rule: `backend ${b.backend.name} is not deterministic`,
        result: "skip",
      });
      continue;
    }
    const sameBackend = a.backend.name === b.backend.name && a.backend.threads === b.backend.threads;
    for (const field of ["mapsDigest", "scoresDigest"] as const) {
      const x = a.outputs?.[field], y = b.outputs?.[field];
      const pass = sameBackend && a.status === "completed" && b.status === "completed" && x !== undefined &&
        x === y;
      rows.push({
        gate: "determinism",
        name: `${name} seed 0 ${field}`,
        baseline: short(x),
        now: short(y),
        rule: `identical on ${b.backend.name}${
          b.backend.threads ? ` (${b.backend.threads} thread${b.backend.threads === 1 ? "" : "s"})` : ""
        }`,
        result: pass ? "pass" : "fail",
      });
    }
  }
  if (rows.length === 0) notes.push("no cell to compare");
  return { rows, notes };
}

/** The baseline's profile entry, if any. */
export function profileBaseline(file: BaselineFile, profile: string): ProfileBaseline | undefined {
  return file.profiles[profile];
}
