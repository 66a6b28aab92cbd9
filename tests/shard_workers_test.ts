/**
 * Sharding with real worker processes (the real data layer, trainer and metric engine on the offline
 * `synthetic` dataset, tiny subsets, one onnxruntime thread so results are bit-identical across
 * processes): workers over the shards give the tables one process gives, and two workers racing on one
 * cell leave exactly one record.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { readRunEvents, readRunRecordEntries } from "../src/runs/store.ts";
import type { RunRecord } from "../src/runs/record.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const MAIN = join(ROOT, "main.ts");

/** The reproduce arguments every process of a test shares: 3 categories × 2 seeds of AE MSE. */
function reproduceArgs(dataDir: string): string[] {
  return [
    "reproduce",
    "synthetic",
    "--model",
    "ae-mse",
    "--seeds",
    "2",
    "--max-train",
    "8",
    "--max-test",
    "8",
    "--threads",
    "1",
    "--panels",
    "0",
    "--data-dir",
    dataDir,
  ];
}

/** Starts `main.ts <args>` as its own process; `env` adds variables to this process's, minus any shard ones. */
function spawnMain(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-run=git",
      MAIN,
      ...args,
    ],
    cwd: ROOT,
    env: { ...withoutShardVariables(), ...env },
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** This process's environment minus any shard variables (a test run inside a Slurm job must not leak them). */
function withoutShardVariables(): Record<string, string> {
  const env = Deno.env.toObject();
  for (const k of Object.keys(env)) if (/^(JOB_COMPLETION|SLURM_ARRAY_)/.test(k)) delete env[k];
  return env;
}

async function finish(child: Deno.ChildProcess): Promise<{ code: number; stderr: string; stdout: string }> {
  const { code, stdout, stderr } = await child.output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code, stdout: decode(stdout), stderr: decode(stderr) };
}

async function runMain(args: string[], env: Record<string, string> = {}) {
  const result = await finish(spawnMain(args, env));
  assert.equal(result.code, 0, `main.ts ${args.join(" ")}\n${result.stderr}`);
  return result;
}

/** Every cell's metrics at full precision, by run id. */
async function metricsByRun(runsDirs: string[]): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const dir of runsDirs) {
    for (const { record } of (await readRunRecordEntries(dir)).entries) {
      assert.equal(record.status, "completed", record.runId);
      assert.ok(!(record.runId in out), `${record.runId} recorded by two workers`);
      out[record.runId] = Object.fromEntries(record.metrics.map((m) => [m.key, m.value]));
    }
  }
  return out;
}

/** The leaderboard without what each process measures itself: train times and the efficiency table. */
function leaderboardWithoutTimes(md: string): string {
  const efficiency = md.indexOf("### Efficiency");
  const lines = (efficiency >= 0 ? md.slice(0, efficiency) : md).split("\n");
  const header = lines.find((l) => l.startsWith("| dataset"))!.split("|");
  const time = header.findIndex((c) => c.trim() === "train time");
  return lines.map((l) => l.startsWith("|") ? l.split("|").filter((_, i) => i !== time).join("|") : l).join(
    "\n",
  );
}

Deno.test({
  name: "three worker processes over the shards give the same records and tables as one process",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const args = reproduceArgs(join(dir, "data"));
    await runMain([...args, "--out", join(dir, "single")]);
    const single = await metricsByRun([join(dir, "single", "runs")]);
    assert.equal(Object.keys(single).length, 6);
    const singleTable = await Deno.readTextFile(join(dir, "single", "tables", "synthetic.md"));
    const singleBoard = await Deno.readTextFile(join(dir, "single", "leaderboard.md"));

    // Kubernetes-style: an Indexed Job's pods on one shared volume, the index from the environment.
    const shared = join(dir, "shared");
    const pods = await Promise.all(
      [0, 1, 2].map((i) =>
        finish(
          spawnMain([...args, "--out", shared], { JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: "3" }),
        )
      ),
    );
    for (const [i, pod] of pods.entries()) {
      assert.equal(pod.code, 0, pod.stderr);
      assert.match(
        pod.stderr,
        new RegExp(`shard ${i}/3 \\(JOB_COMPLETION_INDEX=${i} of JOB_COMPLETIONS=3\\): 2 of 6 cells`),
      );
      assert.equal(pod.stdout.trim(), "", "a worker prints no tables");
    }
    // GitHub-style: each worker its own output folder (an artifact), merged by report.
    const workers = [0, 1, 2].map((i) => join(dir, `worker-${i}`));
    const results = await Promise.all(
      workers.map((out, i) => finish(spawnMain([...args, "--out", out, "--shard", `${i}/3`]))),
    );
    for (const r of results) assert.equal(r.code, 0, r.stderr);

    assert.deepEqual(await metricsByRun([join(shared, "runs")]), single);
    assert.deepEqual(await metricsByRun(workers.map((w) => join(w, "runs"))), single);
    for (
      const [name, runs] of [["shared", ["--runs", join(shared, "runs")]], [
        "workers",
        workers.flatMap((w) => ["--runs", join(w, "runs")]),
      ]] as const
    ) {
      const out = join(dir, `merged-${name}`);
      await runMain(["report", ...runs, "--out", out]);
      assert.equal(await Deno.readTextFile(join(out, "tables", "synthetic.md")), singleTable, name);
      assert.equal(
        leaderboardWithoutTimes(await Deno.readTextFile(join(out, "leaderboard.md"))),
        leaderboardWithoutTimes(singleBoard),
        name,
      );
    }
  },
});

Deno.test({
  name: "two workers racing on one cell leave exactly one valid record, and a finished cell is not rerun",
  sanitizeResources: false,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const out = join(dir, "shared");
    const cell = "synthetic.disc.ae-mse.seed0";
    // Long enough training (6 epochs on 16 images) that the second worker arrives while the first runs.
    const args = [
      ...reproduceArgs(join(dir, "data")),
      "--set",
      "epochs=6",
      "--max-train",
      "16",
      "--out",
      out,
      "--cell",
      cell,
    ];
    const [a, b] = await Promise.all([finish(spawnMain(args)), finish(spawnMain(args))]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    const trained = [a, b].filter((r) => /done in/.test(r.stderr));
    const skipped = [a, b].filter((r) => /skipped, completed/.test(r.stderr));
    assert.equal(trained.length, 1, "exactly one worker trains the cell");
    assert.equal(skipped.length, 1, "the other finds it completed");

    const { entries, warnings } = await readRunRecordEntries(join(out, "runs"));
    assert.deepEqual(warnings, []);
    assert.equal(entries.length, 1);
    const record: RunRecord = entries[0].record;
    assert.equal(record.status, "completed");
    assert.equal(record.dataset.category, "disc");
    const runDir = dirname(entries[0].path);
    const events = await readRunEvents(runDir);
    assert.equal(events.filter((e) => e.key === "run_start").length, 1, "one training, one event log");
    const leftovers = (await Array.fromAsync(Deno.readDir(runDir))).map((e) => e.name)
      .filter((n) => n.endsWith(".tmp") || n === "cell.lock");
    assert.deepEqual(leftovers, [], "no lock or temporary file left behind");

    const again = await runMain(args);
    assert.match(again.stderr, /skipped, completed record/);
    const after = (await readRunRecordEntries(join(out, "runs"))).entries;
    assert.deepEqual(after.map((e) => e.record), [record], "the finished record is untouched");
  },
});
