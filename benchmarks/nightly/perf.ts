/**
 * The performance figures of the nightly run, each compared with the baseline as a speed ratio
 * ({@linkcode perfVerdict}): training and scoring img/s (`benchmarks/train_bench.ts --json`, in a child
 * process per model so one's memory does not weigh on the next), AU-PRO time
 * (`benchmarks/au_pro_bench.ts` in script mode), and verified download and tar.xz extraction throughput
 * (an archive served from a loopback server). Machines are noisy: a figure outside its band is reported,
 * and only a drop below the entry's `failBelow` ratio fails the run.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { downloadVerified } from "../../src/datasets/download.ts";
import { extractTarXz } from "../../src/datasets/extract.ts";
import { sha256Hex } from "../../src/datasets/hashing.ts";
import type { LockFile } from "../../src/datasets/lock.ts";
import { imageLikeTarXz } from "../archive_fixture.ts";
import type { TrainBenchResult } from "../train_bench.ts";
import { DEFAULT_PERF_TOLERANCE, type PerfEntry, perfVerdict, type ProfileBaseline } from "./baseline.ts";
import type { NightlyProfile } from "./profiles.ts";
import type { SummaryRow } from "./summary.ts";

/** One measured figure. */
export interface PerfFigure {
  name: string;
  value: number;
  unit: string;
  higherIsBetter: boolean;
}

const MB = 1_000_000;
const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
const script = (name: string) => fileURLToPath(new URL(`../${name}`, import.meta.url));

/** Runs a benchmark script with `deno run` and returns its stdout's JSON lines. */
async function runScript(name: string, permissions: string[], args: string[]): Promise<unknown[]> {
  const { success, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--config", DENO_JSON, ...permissions, script(name), ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stdout);
  if (!success) {
    const last = new TextDecoder().decode(stderr).trim().split("\n").at(-1);
    throw new Error(`benchmarks/${name} failed: ${last}`);
  }
  return text.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l));
}

/** Training and scoring img/s of one (model, config) on the profile's backend. */
async function trainFigures(profile: NightlyProfile, t: NightlyProfile["performance"]["train"][number]) {
  const [result] = await runScript(
    "train_bench.ts",
    ["--allow-read", "--allow-env", "--allow-ffi", "--allow-sys", "--allow-run"],
    [
      "--json",
      "--model",
      t.model,
      "--config",
      t.config,
      "--backend",
      profile.backend,
      "--batch",
      String(t.batch),
      "--steps",
      String(t.steps),
    ],
  ) as TrainBenchResult[];
  const tag = `${t.model}/${t.config}`;
  return [
    { name: `train_img_per_s/${tag}`, value: result.train_img_per_s, unit: "img/s", higherIsBetter: true },
    { name: `score_img_per_s/${tag}`, value: result.score_img_per_s, unit: "img/s", higherIsBetter: true },
  ];
}

/** Seconds of one AU-PRO computation on synthetic maps. */
async function auProFigure(profile: NightlyProfile): Promise<PerfFigure> {
  const { images, size } = profile.performance.auPro;
  const [result] = await runScript("au_pro_bench.ts", ["--allow-read", "--allow-env", "--allow-sys"], [
    String(images),
    String(size),
  ]) as { au_pro_seconds: number }[];
  return {
    name: `au_pro_seconds/${images}x${size}`,
    value: result.au_pro_seconds,
    unit: "s",
    higherIsBetter: false,
  };
}

/** Verified download from a loopback server, then extraction, of a tar.xz of about `mb` MB. */
async function archiveFigures(mb: number): Promise<PerfFigure[]> {
  const { tar, xz } = await imageLikeTarXz(mb, "blob");
  const body = xz as Uint8Array<ArrayBuffer>;
  const dir = await Deno.makeTempDir({ prefix: "vtadl-nightly-" });
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, () => new Response(body));
  try {
    const { port } = server.addr as Deno.NetAddr;
    const file: LockFile = {
      name: "blob.tar.xz",
      archive: "tar.xz",
      mirrors: [`http://127.0.0.1:${port}/blob.tar.xz`],
      accept: [{ source: "nightly", size: xz.length, sha256: sha256Hex(xz) }],
    };
    let t = performance.now();
    const verified = await downloadVerified(file, join(dir, "downloads"));
    const downloadSeconds = (performance.now() - t) / 1000;
    t = performance.now();
    await extractTarXz(verified.path, join(dir, "tree"));
    const extractSeconds = (performance.now() - t) / 1000;
    return [
      {
        name: "download_mb_per_s",
        value: xz.length / MB / downloadSeconds,
        unit: "MB/s",
        higherIsBetter: true,
      },
      {
        name: "extract_mb_per_s",
        value: tar.length / MB / extractSeconds,
        unit: "MB/s",
        higherIsBetter: true,
      },
    ];
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Measures every figure of the profile (one failed measurement is a note, the others still run). */
export async function measurePerformance(
  profile: NightlyProfile,
  log: (line: string) => void,
): Promise<{ figures: PerfFigure[]; notes: string[] }> {
  const figures: PerfFigure[] = [], notes: string[] = [];
  const attempt = async (label: string, f: () => Promise<PerfFigure[]>) => {
    log(`nightly: performance: ${label}`);
    try {
      figures.push(...await f());
    } catch (error) {
      notes.push(`${label}: ${error instanceof Error ? error.message : String(error)}`);
    }
  };
  for (const t of profile.performance.train) {
    await attempt(`train/score ${t.model}/${t.config}`, () => trainFigures(profile, t));
  }
  await attempt("AU-PRO", async () => [await auProFigure(profile)]);
  await attempt("download/extract", () => archiveFigures(profile.performance.archiveMb));
  return { figures, notes };
}

const format = (v: number, unit: string) => `${v.toPrecision(4)} ${unit}`;

/** Compares the figures with the profile's baseline. */
export function performanceRows(figures: PerfFigure[], base: ProfileBaseline | undefined): SummaryRow[] {
  return figures.map((f): SummaryRow => {
    const entry = base?.performance[f.name];
    if (!entry) {
      return {
        gate: "performance",
        name: f.name,
        baseline: "—",
        now: format(f.value, f.unit),
        rule: "new figure: not in the baseline",
        result: "warn",
      };
    }
    const verdict = perfVerdict(entry, f.value);
    return {
      gate: "performance",
      name: f.name,
      baseline: format(entry.value, entry.unit),
      now: format(f.value, f.unit),
      rule: verdict.rule,
      result: verdict.status === "ok" ? "pass" : verdict.status === "slower" ? "warn" : "fail",
    };
  });
}

/**
 * The profile's performance entries from this run, keeping the tolerances of entries that already
 * exist; `failBelow` defaults to null (reported only) for the quick profile, whose timings are too short to
 * gate on.
 */
export function perfBaselineEntries(
  figures: PerfFigure[],
  previous: ProfileBaseline | undefined,
  profile: NightlyProfile,
): Record<string, PerfEntry> {
  const entries: Record<string, PerfEntry> = {};
  for (const f of figures) {
    const old = previous?.performance[f.name];
    entries[f.name] = {
      value: f.value,
      unit: f.unit,
      higherIsBetter: f.higherIsBetter,
      band: old?.band ?? DEFAULT_PERF_TOLERANCE.band,
      failBelow: old ? old.failBelow : profile.name === "quick" ? null : DEFAULT_PERF_TOLERANCE.failBelow,
    };
  }
  return entries;
}
