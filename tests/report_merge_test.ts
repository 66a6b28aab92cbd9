/**
 * `report --runs A --runs B …`: the records of many workers merged into one set, one record per cell,
 * with conflicts refused unless `--prefer` says which record wins.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runReproduce } from "../src/pipeline/runner.ts";
import { readMergedRunRecords, RunRecordConflictError } from "../src/runs/merge.ts";
import { readRunRecord } from "../src/runs/store.ts";
import type { RunRecord } from "../src/runs/record.ts";
import { writeJsonAtomic } from "../src/util/atomic_write.ts";
import { captureMain } from "./helpers/capture.ts";
import { fakeDeps } from "./fakes/pipeline_fakes.ts";

/** A runs folder with two completed cells (fake training), and the path of the first cell's record. */
async function workerRuns(): Promise<{ runs: string; first: string }> {
  const out = await Deno.makeTempDir();
  await runReproduce({
    dataset: "synthetic",
    models: ["vtadl"],
    configName: "smoke",
    configOverrides: { epochs: "1" },
    seeds: [0],
    backend: "cpu",
    dataDir: join(out, "data"),
    outDir: out,
    panels: 0,
    log: () => {},
  }, fakeDeps().deps);
  const runs = join(out, "runs");
  const names = (await Array.fromAsync(Deno.readDir(runs))).map((e) => e.name).sort();
  assert.equal(names.length, 2);
  return { runs, first: names[0] };
}

/** A copy of a runs folder (what a second download of the same artifact gives). */
async function copyRuns(from: string): Promise<string> {
  const to = join(await Deno.makeTempDir(), "runs");
  await new Deno.Command("cp", { args: ["-r", from, to] }).output();
  return to;
}

async function edit(path: string, change: (r: RunRecord) => RunRecord): Promise<void> {
  await writeJsonAtomic(path, change((await readRunRecord(path))!));
}

const auroc = (r: RunRecord) => r.metrics.find((m) => m.key === "imageAuroc")!.value;

Deno.test("identical copies of a record in two folders merge into one", async () => {
  const a = await workerRuns();
  const b = await copyRuns(a.runs);
  const merged = await readMergedRunRecords([a.runs, b]);
  assert.equal(merged.entries.length, 2);
  assert.deepEqual(merged.warnings, []);
  assert.ok(merged.entries.every((e) => e.path.startsWith(a.runs)), "the first folder's copy is kept");
});

Deno.test("different cells from different folders are all kept", async () => {
  const a = await workerRuns();
  const b = await copyRuns(a.runs);
  await Deno.remove(join(a.runs, a.first), { recursive: true });
  const second = (await Array.fromAsync(Deno.readDir(b))).map((e) => e.name).sort()[1];
  await Deno.remove(join(b, second), { recursive: true });
  const merged = await readMergedRunRecords([a.runs, b]);
  assert.deepEqual(
    merged.entries.map((e) => e.path).sort(),
    [
      join(a.runs, second, "result.json"),
      join(b, a.first, "result.json"),
    ].sort(),
  );
});

Deno.test("two different records of one cell are refused, naming both files", async () => {
  const a = await workerRuns();
  const b = await copyRuns(a.runs);
  const pathA = join(a.runs, a.first, "result.json"), pathB = join(b, a.first, "result.json");
  await edit(pathB, (r) => ({ ...r, metrics: r.metrics.map((m) => ({ ...m, value: m.value / 2 })) }));
  await assert.rejects(
    () => readMergedRunRecords([a.runs, b]),
    (e) =>
      e instanceof RunRecordConflictError && e.message.includes(pathA) && e.message.includes(pathB) &&
      /--prefer newest.*--prefer DIR/.test(e.message),
  );
  const { code, stderr } = await captureMain([
    "report",
    "--runs",
    a.runs,
    "--runs",
    b,
    "--out",
    await Deno.makeTempDir(),
  ]);
  assert.equal(code, 1);
  assert.ok(stderr.includes(pathA) && stderr.includes(pathB), stderr);
});

Deno.test("--prefer newest keeps the later record; --prefer DIR keeps that folder's", async () => {
  const a = await workerRuns();
  const b = await copyRuns(a.runs);
  const pathA = join(a.runs, a.first, "result.json"), pathB = join(b, a.first, "result.json");
  const original = auroc((await readRunRecord(pathA))!);
  await edit(pathB, (r) => ({
    ...r,
    finishedAt: "2099-01-01T00:00:00.000Z",
    metrics: r.metrics.map((m) => m.key === "imageAuroc" ? { ...m, value: 0.123 } : m),
  }));
  const pick = async (prefer: Parameters<typeof readMergedRunRecords>[1]) => {
    const merged = await readMergedRunRecords([a.runs, b], prefer);
    return merged.entries.find((e) => e.record.runId === a.first)!;
  };
  assert.equal(auroc((await pick({ prefer: { kind: "newest" } })).record), 0.123);
  assert.equal((await pick({ prefer: { kind: "dir", dir: a.runs } })).path, pathA);
  assert.equal(auroc((await pick({ prefer: { kind: "dir", dir: a.runs } })).record), original);
  assert.equal((await pick({ prefer: { kind: "dir", dir: b + "/" } })).path, pathB, "the folder as typed");

  const out = await Deno.makeTempDir();
  const run = await captureMain([
    "report",
    "--runs",
    a.runs,
    "--runs",
    b,
    "--prefer",
    "newest",
    "--out",
    out,
  ]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Rendered from 2 run record\(s\) in `.+`, `.+`\./);
  const bad = await captureMain(["report", "--runs", a.runs, "--prefer", "/elsewhere", "--out", out]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--prefer \/elsewhere: expected 'newest' or one of the --runs folders/);
});

Deno.test("a completed record supersedes an unfinished one of the same cell, with a warning", async () => {
  const a = await workerRuns();
  const b = await copyRuns(a.runs);
  const pathB = join(b, a.first, "result.json");
  await edit(pathB, (r) => ({ ...r, status: "aborted", error: { stage: "train", message: "killed" } }));
  for (const dirs of [[a.runs, b], [b, a.runs]]) {
    const merged = await readMergedRunRecords(dirs);
    const kept = merged.entries.find((e) => e.record.runId === a.first)!;
    assert.equal(kept.record.status, "completed");
    assert.equal(merged.warnings.length, 1);
    assert.ok(merged.warnings[0].includes(pathB) && /superseded by completed/.test(merged.warnings[0]));
  }
});
