/**
 * `evaluate` end to end against the official MVTec AD `evaluate_experiment.py`, side by side: the tree
 * of {@linkcode writeEvaluateTree} (100 float32 TIFF maps of 1024² with PNG masks), both commands run
 * as whole processes under `/usr/bin/time -v`, interleaved (ours, official, ours, …), median of the
 * rounds. Reports wall time, user + system CPU time (fairer than wall time on a shared machine), peak RSS,
 * the speed-up, and whether AU-PRO agrees exactly (`===` on the JSON numbers) and image AUROC to 1e-12.
 *
 * The official code is not part of this project: download MVTec's `mvtec_ad_evaluation` and name its
 * folder with `--official DIR` or `MVTEC_AD_EVALUATION=DIR`; its Python (numpy, scipy, Pillow, tifffile,
 * tqdm) is `--python` / `VTADL_PYTHON` (default `python3`). Without it, only our side runs, with a note.
 *
 * - `deno task bench:evaluate [--rounds 3] [--defect-types 1|2|3] [--tree DIR] [--official DIR] [--python EXE]
 *   [--json]`; `--defect-types 3` deals the anomalous maps into three defect folders, so that `evaluate`'s
 *   per-defect breakdown has three rows (the official script has no breakdown; its numbers do not change).
 * - `deno task bench` runs it for one and for three defect types, 3 rounds each, with the trees under
 *   `.cache/`.
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { pathExists } from "../src/util/fs.ts";
import { TREE_CATEGORY, writeEvaluateTree } from "./evaluate_tree.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const TIME = "/usr/bin/time";

/** One measured process. */
export interface ProcessRun {
  wallSeconds: number;
  cpuSeconds: number;
  peakRssMiB: number;
}

/** The two numbers both tools print, per category. */
interface Numbers {
  auPro: number;
  imageAuroc: number;
}

/** Medians of one side's rounds. */
export interface SideSummary {
  runs: ProcessRun[];
  medianWallSeconds: number;
  medianCpuSeconds: number;
  medianPeakRssMiB: number;
}

/** What {@linkcode compareEvaluate} returns. */
export interface EvaluateComparison {
  tree: string;
  ours: SideSummary & Numbers;
  official: (SideSummary & Numbers & { numpy: string }) | null;
  /** Why the official side did not run (null when it ran). */
  skipped: string | null;
  /** Official wall / ours wall (medians). */
  speedup: number | null;
  cpuSpeedup: number | null;
  /**
   * AU-PRO identical (`===`) and image AUROC equal to 1e-12: the official script integrates its image
   * ROC curve with trapezoids, ours counts pairs exactly (Mann–Whitney), so the two may differ in the
   * last bits (see `auRocDifference`).
   */
  agree: boolean | null;
  /** Ours − official image AUROC (0 when identical). */
  auRocDifference: number | null;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** Runs `cmd` under `/usr/bin/time -v`, wall time measured here; stdout kept only when asked. */
async function timed(
  cmd: string[],
  { cwd, env, keepStdout }: { cwd: string; env?: Record<string, string>; keepStdout: boolean },
): Promise<ProcessRun & { stdout: string }> {
  const report = await Deno.makeTempFile({ suffix: ".time" });
  try {
    const t0 = performance.now();
    const out = await new Deno.Command(TIME, {
      args: ["-v", "-o", report, ...cmd],
      cwd,
      env,
      stdout: keepStdout ? "piped" : "null",
      stderr: "piped",
    }).output();
    const wallSeconds = (performance.now() - t0) / 1000;
    if (!out.success) {
      const tail = new TextDecoder().decode(out.stderr).trim().split("\n").slice(-5).join("\n");
      throw new Error(`${cmd.join(" ")} failed (exit ${out.code}):\n${tail}`);
    }
    const text = await Deno.readTextFile(report);
    const field = (name: string) => Number(new RegExp(`${name}: ([\\d.]+)`).exec(text)?.[1]);
    return {
      wallSeconds,
      cpuSeconds: field("User time \\(seconds\\)") + field("System time \\(seconds\\)"),
      peakRssMiB: field("Maximum resident set size \\(kbytes\\)") / 1024,
      stdout: keepStdout ? new TextDecoder().decode(out.stdout) : "",
    };
  } finally {
    await Deno.remove(report);
  }
}

function progress(what: string, run: ProcessRun): void {
  console.error(
    `${what}: wall ${run.wallSeconds.toFixed(2)} s, cpu ${run.cpuSeconds.toFixed(2)} s, peak RSS ${
      run.peakRssMiB.toFixed(0)
    } MiB`,
  );
}

function summary(runs: ProcessRun[]): SideSummary {
  return {
    runs: runs.map(({ wallSeconds, cpuSeconds, peakRssMiB }) => ({ wallSeconds, cpuSeconds, peakRssMiB })),
    medianWallSeconds: median(runs.map((r) => r.wallSeconds)),
    medianCpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    medianPeakRssMiB: median(runs.map((r) => r.peakRssMiB)),
  };
}

/** Why the official side cannot run, or null when it can. */
async function officialMissing(official: string | undefined, python: string): Promise<string | null> {
  if (official === undefined) {
    return "official script not given (--official DIR or MVTEC_AD_EVALUATION=DIR, the folder of MVTec's evaluate_experiment.py)";
  }
  if (!(await pathExists(join(official, "evaluate_experiment.py")))) {
    return `${official}/evaluate_experiment.py not found`;
  }
  try {
    await timed([python, "-c", "import numpy, scipy, PIL, tifffile, tqdm"], {
      cwd: official,
      keepStdout: false,
    });
  } catch {
    return `${python} cannot import numpy, scipy, PIL, tifffile and tqdm (the official script's requirements)`;
  }
  return null;
}

/** Options of {@linkcode compareEvaluate}. */
export interface CompareOptions {
  /** Tree folder; written by {@linkcode writeEvaluateTree} when it holds none. */
  tree: string;
  rounds?: number;
  official?: string;
  python?: string;
  /** Defect types of a newly written tree (1–3; the per-defect breakdown then has that many rows). Default 1. */
  defectTypes?: number;
}

/**
 * Runs `deno task evaluate` and the official script on the same tree, interleaved, `rounds` times each.
 *
 * @example
 * ```ts
 * const c = await compareEvaluate({ tree: ".cache/evaluate_tree", official: "/opt/mvtec_ad_evaluation" });
 * ```
 */
export async function compareEvaluate(options: CompareOptions): Promise<EvaluateComparison> {
  const { tree, rounds = 3, official, python = "python3", defectTypes = 1 } = options;
  if (!(await pathExists(TIME))) {
    throw new Error(
      `${TIME} not found: install GNU time (Debian/Ubuntu: apt-get install time) to measure peak RSS`,
    );
  }
  const maps = join(tree, "maps"), gt = join(tree, "gt");
  if (!(await pathExists(join(tree, "complete")))) {
    await writeEvaluateTree(tree, { defectTypes });
    await Deno.writeTextFile(join(tree, "complete"), "");
  }
  const skipped = await officialMissing(official, python);
  const oursRuns: ProcessRun[] = [], officialRuns: ProcessRun[] = [];
  let ours: Numbers | null = null, theirs: Numbers | null = null;
  const out = await Deno.makeTempDir();
  try {
    for (let r = 0; r < rounds; r++) {
      const run = await timed(
        [Deno.execPath(), "task", "-q", "evaluate", "--maps", maps, "--gt", gt, "--json"],
        { cwd: ROOT, keepStdout: true },
      );
      oursRuns.push(run);
      progress(`round ${r + 1}/${rounds} ours`, run);
      const c = JSON.parse(run.stdout).categories[TREE_CATEGORY];
      ours = { auPro: c.au_pro, imageAuroc: c.auroc };
      if (skipped !== null) continue;
      const py = await timed([
        python,
        "evaluate_experiment.py",
        "--anomaly_maps_dir",
        maps,
        "--dataset_base_dir",
        gt,
        "--evaluated_objects",
        TREE_CATEGORY,
        "--output_dir",
        out,
      ], { cwd: official!, keepStdout: false });
      officialRuns.push(py);
      progress(`round ${r + 1}/${rounds} official`, py);
      const m = JSON.parse(await Deno.readTextFile(join(out, "metrics.json")))[TREE_CATEGORY];
      theirs = { auPro: m.au_pro, imageAuroc: m.classification_au_roc };
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
  const oursSide = { ...summary(oursRuns), ...ours! };
  if (skipped !== null || theirs === null) {
    return {
      tree,
      ours: oursSide,
      official: null,
      skipped,
      speedup: null,
      cpuSpeedup: null,
      agree: null,
      auRocDifference: null,
    };
  }
  const numpy = await timed([python, "-c", "import numpy; print(numpy.__version__)"], {
    cwd: official!,
    keepStdout: true,
  });
  const officialSide = { ...summary(officialRuns), ...theirs, numpy: numpy.stdout.trim() };
  return {
    tree,
    ours: oursSide,
    official: officialSide,
    skipped: null,
    speedup: officialSide.medianWallSeconds / oursSide.medianWallSeconds,
    cpuSpeedup: officialSide.medianCpuSeconds / oursSide.medianCpuSeconds,
    agree: ours!.auPro === theirs.auPro && Math.abs(ours!.imageAuroc - theirs.imageAuroc) <= 1e-12,
    auRocDifference: ours!.imageAuroc - theirs.imageAuroc,
  };
}

/** A few lines for a terminal. */
export function formatComparison(c: EvaluateComparison): string {
  const side = (name: string, s: SideSummary & Numbers) =>
    `${name.padEnd(9)} wall ${s.medianWallSeconds.toFixed(2)} s  cpu ${s.medianCpuSeconds.toFixed(2)} s  ` +
    `peak RSS ${s.medianPeakRssMiB.toFixed(0)} MiB  AU-PRO ${s.auPro}  image AUROC ${s.imageAuroc}`;
  const lines = [`evaluate end to end, tree ${c.tree}, median of ${c.ours.runs.length} interleaved rounds`];
  lines.push(side("ours", c.ours));
  if (c.official === null) lines.push(`official  skipped: ${c.skipped}`);
  else {
    lines.push(side(`official`, c.official) + `  (NumPy ${c.official.numpy})`);
    lines.push(
      `speed-up ${c.speedup!.toFixed(1)}× wall, ${c.cpuSpeedup!.toFixed(1)}× cpu; AU-PRO ${
        c.ours.auPro === c.official.auPro ? "identical" : "DIFFERS"
      }; image AUROC ${
        c.auRocDifference === 0
          ? "identical"
          : `differs by ${c.auRocDifference} (official: trapezoid over its ROC curve; ours: exact pair count)`
      }`,
    );
  }
  return lines.join("\n");
}

/** Where the benchmark keeps its tree for `defectTypes` defect types (written once). */
function defaultTree(defectTypes: number): string {
  return join(ROOT, ".cache", defectTypes === 1 ? "evaluate_tree" : `evaluate_tree_${defectTypes}_defects`);
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      rounds: { type: "string", default: "3" },
      tree: { type: "string" },
      "defect-types": { type: "string", default: "1" },
      official: { type: "string" },
      python: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  const defectTypes = Number(values["defect-types"]);
  const comparison = await compareEvaluate({
    tree: values.tree ?? defaultTree(defectTypes),
    defectTypes,
    rounds: Number(values.rounds),
    official: values.official ?? Deno.env.get("MVTEC_AD_EVALUATION"),
    python: values.python ?? Deno.env.get("VTADL_PYTHON"),
  });
  console.log(values.json ? JSON.stringify(comparison) : formatComparison(comparison));
  if (comparison.agree === false) Deno.exit(1);
} else {
  for (const defectTypes of [1, 3]) {
    Deno.bench({
      name:
        `evaluate end to end vs official evaluate_experiment.py, 100×1024² TIFF + PNG, ${defectTypes} defect ` +
        `type${defectTypes === 1 ? "" : "s"} (3 rounds)`,
      n: 1,
      warmup: 0,
      async fn() {
        const comparison = await compareEvaluate({
          tree: defaultTree(defectTypes),
          defectTypes,
          official: Deno.env.get("MVTEC_AD_EVALUATION"),
          python: Deno.env.get("VTADL_PYTHON"),
        });
        console.log(formatComparison(comparison));
        if (comparison.agree === false) throw new Error("evaluate and the official script disagree");
      },
    });
  }
}
