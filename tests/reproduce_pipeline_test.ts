import assert from "node:assert/strict";
import { join } from "node:path";
import { renderCellSummary, type ReproduceOptions, runReproduce } from "../src/pipeline/runner.ts";
import { planCells } from "../src/pipeline/plan.ts";
import { cellLockPath } from "../src/pipeline/cell.ts";
import { tryFileLock } from "../src/util/file_lock.ts";
import { readRunEvents, readRunRecord, readRunRecords } from "../src/runs/store.ts";
import { UsageError } from "../src/core/errors.ts";
import { DATASETS } from "../src/core/datasets.ts";
import { fakeDeps, reproduceOptions } from "./fakes/pipeline_fakes.ts";
import { resolveConfig } from "../src/models/configs.ts";

function options(outDir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return reproduceOptions(outDir, { configOverrides: { epochs: "3" }, panels: 1, ...extra });
}

Deno.test("reproduce writes one completed record per cell with consistent fields and events", async () => {
  const out = await Deno.makeTempDir();
  const { deps, calls } = fakeDeps();
  const result = await runReproduce(options(out, { models: ["vtadl", "ae-mse"], seeds: [0, 1] }), deps);
  assert.equal(result.outcomes.length, 2 * 2 * 2);
  assert.ok(result.outcomes.every((o) => o.status === "completed"));
  assert.equal(calls.loads, 2, "each category's split is loaded once and reused across models and seeds");
  assert.equal(calls.disposed, 8, "every trained model is disposed");

  const { records } = await readRunRecords(join(out, "runs"));
  assert.equal(records.length, 8);
  for (const r of records) {
    assert.equal(r.status, "completed");
    assert.equal(r.dataset.lockDigest, "d".repeat(64));
    assert.equal(r.dataset.licence, "CC0-1.0");
    assert.deepEqual(r.dataset.counts, { train: 6, test: 10, testAnomalous: 5 });
    assert.equal(r.config.resolved.epochs, 3);
    assert.equal(r.config.hash.length, 64);
    assert.equal(r.training?.epochs.length, 3);
    assert.deepEqual(r.training?.epochs.map((e) => e.epoch), [1, 2, 3]);
    assert.equal(r.backend.name, "cpu");
    assert.equal(r.environment.versions.deno, Deno.version.deno);
    assert.equal(r.environment.versions["tfjs-core"], "fake");
    assert.ok(r.durations.totalSeconds >= r.durations.trainSeconds);
    assert.ok(r.runId.includes(`_${r.model}_smoke_seed${r.seed}_`));
    const keys = r.metrics.map((m) => m.key).sort();
    assert.deepEqual(keys, [
      "auPro",
      "averagePrecision",
      "imageAuroc",
      "pixelAuroc",
      "prAucTrapezoid",
      "vtadlCodePro",
    ]);
    assert.equal(r.evaluation.imageScore, r.model === "vtadl" ? "code" : "mse");
    assert.equal(r.evaluation.anomalyMap, r.model === "vtadl" ? "patchNll" : "error");
    // the bright-square anomalies are perfectly separable by the fake model
    assert.equal(r.metrics.find((m) => m.key === "imageAuroc")?.value, 1);
    assert.ok(r.artifacts.length > 0);
    for (const a of r.artifacts) assert.ok((await Deno.stat(join(out, "runs", r.runId, a))).size > 0);

    const events = await readRunEvents(join(out, "runs", r.runId));
    const keysInOrder = events.map((e) => e.key);
    assert.equal(keysInOrder[0], "run_start");
    assert.equal(keysInOrder.at(-1), "run_stop");
    assert.equal(events.at(-1)?.metadata.status, "success");
    assert.equal(keysInOrder.filter((k) => k === "epoch_start").length, 3);
    assert.equal(keysInOrder.filter((k) => k === "epoch_stop").length, 3);
    assert.equal(keysInOrder.filter((k) => k === "eval_accuracy").length, r.metrics.length);
    assert.equal(events.find((e) => e.key === "seed")?.value, r.seed);
    assert.ok(events.every((e, i) => i === 0 || e.time_ms >= events[0].time_ms));
  }
  const seeds = new Set(records.map((r) => r.seed));
  assert.deepEqual([...seeds].sort(), [0, 1]);
  assert.match(renderCellSummary(result.outcomes), /alpha vtadl s0\s+completed\s+1\.0000/);
});

Deno.test("rerun skips completed cells with the same config hash and reruns a changed config", async () => {
  const out = await Deno.makeTempDir();
  const first = fakeDeps();
  await runReproduce(options(out), first.deps);
  assert.equal(first.calls.train.length, 2);

  const second = fakeDeps();
  const again = await runReproduce(options(out), second.deps);
  assert.equal(second.calls.train.length, 0);
  assert.ok(again.outcomes.every((o) => o.status === "skipped"));
  assert.equal(again.outcomes[0].record.status, "completed");

  const third = fakeDeps();
  const changed = await runReproduce(options(out, { configOverrides: { epochs: "2" } }), third.deps);
  assert.equal(third.calls.train.length, 2, "a different config hash is a different cell");
  assert.ok(changed.outcomes.every((o) => o.status === "completed"));
  const { records } = await readRunRecords(join(out, "runs"));
  assert.equal(records.length, 4);
});

Deno.test("a failing cell writes an aborted record and the other cells still complete", async () => {
  const out = await Deno.makeTempDir();
  const { deps } = fakeDeps({ categories: ["alpha", "beta", "gamma"], failCategory: "beta" });
  const lines: string[] = [];
  const result = await runReproduce(options(out, { log: (l) => lines.push(l) }), deps);
  assert.ok(lines.some((l) => /^\[2\/3\] beta vtadl seed 0: ABORTED during train: .*loss is NaN/.test(l)));
  assert.ok(lines.some((l) => /^2 cell\(s\) left, ETA \d+:\d\d/.test(l)), "an overall ETA after each cell");
  assert.ok(
    lines.some((l) => /^\[1\/3\] alpha vtadl seed 0: epoch 3\/3 {2}loss /.test(l)),
    "a progress line per epoch",
  );
  assert.deepEqual(result.outcomes.map((o) => o.status), ["completed", "aborted", "completed"]);
  const failed = result.outcomes[1];
  const record = await readRunRecord(join(out, "runs", failed.runId, "result.json"));
  assert.equal(record?.status, "aborted");
  assert.equal(record?.error?.stage, "train");
  assert.match(record?.error?.message ?? "", /loss is NaN/);
  assert.deepEqual(record?.metrics, []);
  const events = await readRunEvents(join(out, "runs", failed.runId));
  assert.equal(events.at(-1)?.key, "run_stop");
  assert.equal(events.at(-1)?.metadata.status, "aborted");
});

Deno.test("an interrupted cell is recorded aborted, stops the run, and a plain rerun continues it", async () => {
  const out = await Deno.makeTempDir();
  const controller = new AbortController();
  const first = fakeDeps({ abortAfterEpochs: { controller, epochs: 2 } });
  const four = { configOverrides: { epochs: "4" } };
  const interrupted = await runReproduce(options(out, { ...four, signal: controller.signal }), first.deps);
  assert.equal(interrupted.interrupted, true);
  assert.equal(interrupted.outcomes.length, 1, "no further cell starts after an interrupt");
  const rec = interrupted.outcomes[0].record;
  assert.equal(rec.status, "aborted");
  assert.match(rec.error?.message ?? "", /interrupted during train; run the same command again/);
  assert.deepEqual(rec.training?.epochs.map((e) => e.epoch), [1, 2]);

  // No --resume flag: a compatible checkpoint is continued by default (the fake keeps its "checkpoints"
  // in the instance, as the real trainer keeps them on disk).
  const lines: string[] = [];
  const resumed = await runReproduce(options(out, { ...four, log: (l) => lines.push(l) }), first.deps);
  assert.deepEqual(resumed.outcomes.map((o) => o.status), ["completed", "completed"]);
  assert.equal(resumed.outcomes[0].runId, interrupted.outcomes[0].runId, "the resumed cell is the same cell");
  const trainCalls = first.calls.train;
  assert.equal(trainCalls[1].checkpoint, "resume");
  assert.equal(trainCalls[1].checkpointDir, trainCalls[0].checkpointDir);
  assert.deepEqual(resumed.outcomes[0].record.training?.epochs.map((e) => e.epoch), [3, 4]);
  assert.equal(resumed.outcomes[0].record.training?.resumed, true);
  assert.ok(
    lines.some((l) => /alpha vtadl seed 0: resuming from .*epoch 2\/4.*--restart starts over/.test(l)),
  );
});

Deno.test("--restart trains an interrupted cell from scratch", async () => {
  const out = await Deno.makeTempDir();
  const controller = new AbortController();
  const deps = fakeDeps({ abortAfterEpochs: { controller, epochs: 2 } });
  await runReproduce(options(out, { signal: controller.signal }), deps.deps);
  const again = await runReproduce(options(out, { checkpoint: "restart" }), deps.deps);
  assert.equal(deps.calls.train[1].checkpoint, "restart");
  assert.deepEqual(again.outcomes[0].record.training?.epochs.map((e) => e.epoch), [1, 2, 3]);
  assert.equal(again.outcomes[0].record.training?.resumed, false);
});

Deno.test("a run with another training subset never continues the checkpoint of the first", async () => {
  // The defect: a full run resumed after a --max-train 4 run was scored with the 4-image model.
  const out = await Deno.makeTempDir();
  const controller = new AbortController();
  const deps = fakeDeps({ abortAfterEpochs: { controller, epochs: 2 } });
  await runReproduce(options(out, { limits: { maxTrain: 4 }, signal: controller.signal }), deps.deps);
  const full = await runReproduce(options(out), deps.deps);
  const [small, whole] = deps.calls.train;
  assert.notEqual(whole.checkpointDir, small.checkpointDir, "the training key names the checkpoint folder");
  const record = full.outcomes[0].record;
  assert.deepEqual(record.training?.epochs.map((e) => e.epoch), [1, 2, 3], "trained from scratch");
  assert.equal(record.training?.resumed, false);
  assert.equal(record.dataset.counts?.train, 6);
  assert.match(record.trainingKey ?? "", /^[0-9a-f]{64}$/);
  assert.equal(record.dataset.contentDigest, "m".repeat(64));
});

Deno.test("two runs into one --out at the same time train and record every cell once", async () => {
  const out = await Deno.makeTempDir();
  const a = fakeDeps(), b = fakeDeps();
  const lockOptions = { pollMs: 5 };
  const [first, second] = await Promise.all([
    runReproduce(options(out, { lockOptions }), a.deps),
    runReproduce(options(out, { lockOptions }), b.deps),
  ]);
  assert.equal(a.calls.train.length + b.calls.train.length, 2, "each of the 2 cells is trained once");
  for (const result of [first, second]) {
    assert.equal(result.outcomes.length, 2);
    assert.ok(result.outcomes.every((o) => o.status === "completed" || o.status === "skipped"));
  }
  const { records } = await readRunRecords(join(out, "runs"));
  assert.equal(records.length, 2);
  for (const r of records) {
    const events = await readRunEvents(join(out, "runs", r.runId));
    assert.equal(events.filter((e) => e.key === "run_start").length, 1, `${r.runId} recorded once`);
  }
});

Deno.test("MNIST-like datasets (no masks) get image metrics only; the mnist config scores by reconstruction", async () => {
  const out = await Deno.makeTempDir();
  const { deps } = fakeDeps({ categories: ["0", "1"], withMasks: false });
  const result = await runReproduce(options(out, { dataset: "fashion-mnist", configName: "mnist" }), deps);
  for (const o of result.outcomes) {
    assert.equal(o.status, "completed");
    assert.equal(o.record.evaluation.imageScore, "recon");
    assert.deepEqual(o.record.metrics.map((m) => m.key).sort(), [
      "averagePrecision",
      "imageAuroc",
      "prAucTrapezoid",
    ]);
    assert.deepEqual(o.record.artifacts, []);
  }
});

Deno.test("unknown categories, and original resolution without a decoder, are refused with a clear message", async () => {
  const out = await Deno.makeTempDir();
  await assert.rejects(
    () => runReproduce(options(out, { categories: ["alpha", "nope"] }), fakeDeps().deps),
    (e) =>
      e instanceof UsageError && /unknown synthetic category nope: choose from alpha, beta/.test(e.message),
  );
  await assert.rejects(
    () => runReproduce(options(out, { evalResolution: "original" }), fakeDeps().deps),
    /--eval-resolution original needs an image decoder/,
  );
});

Deno.test("preprocessing follows the config through the registry: resize/crop, mask resize, BTAD direct512", () => {
  const code = resolveConfig("vtadl", "code");
  const paper = resolveConfig("vtadl", "paper");
  assert.deepEqual(DATASETS.mvtec.preprocess(code), {
    resize: 550,
    crop: 512,
    maskResize: "bilinearAnyPositive",
  });
  assert.deepEqual(DATASETS.btad.preprocess(paper), { resize: 512, crop: 512, maskResize: "nearest" });
  assert.equal(DATASETS.mvtec.preprocess(paper).resize, 550);
  const [cell] = planCells(
    { dataset: "btad", models: ["vtadl"], configName: "paper", seeds: [0] },
    { contentDigest: "c".repeat(64), categories: ["01"] },
  );
  assert.deepEqual(cell.preprocess, { resize: 512, crop: 512, maskResize: "nearest" });
  assert.deepEqual(
    cell.training.data.preprocess,
    cell.preprocess,
    "the preprocessing is part of the training key",
  );
});

Deno.test("plans are deterministic: the same request and data give the same cells and ids", () => {
  const request = {
    dataset: "synthetic" as const,
    models: ["vtadl" as const, "ae-mse" as const],
    configName: "smoke",
    seeds: [0, 1],
  };
  const data = { contentDigest: "c".repeat(64), categories: ["disc", "weave"] };
  const a = planCells(request, data), b = planCells(request, data);
  assert.deepEqual(a.map((c) => c.runId), b.map((c) => c.runId));
  assert.equal(new Set(a.map((c) => c.cellKey)).size, 8);
  const other = planCells(request, { ...data, contentDigest: "d".repeat(64) });
  assert.notEqual(other[0].trainingKey, a[0].trainingKey, "other data content: another training key");
  const subset = planCells({ ...request, limits: { maxTrain: 4 } }, data);
  assert.notEqual(subset[0].trainingKey, a[0].trainingKey, "another training subset: another training key");
  const rescored = planCells({ ...request, imageScore: "nll" }, data);
  assert.equal(rescored[0].trainingKey, a[0].trainingKey, "another image score: same training");
  assert.notEqual(rescored[0].cellKey, a[0].cellKey, "… but another cell");
});

Deno.test("a cell held by another live process is deferred, then waited for", async () => {
  const out = await Deno.makeTempDir();
  const [first] = planCells(
    {
      dataset: "synthetic",
      models: ["vtadl"],
      configName: "smoke",
      configOverrides: { epochs: "3" },
      seeds: [0],
    },
    { contentDigest: "m".repeat(64), categories: ["alpha"] },
  );
  const held = await tryFileLock(cellLockPath(join(out, "runs"), first.runId));
  assert.ok(held);
  const lines: string[] = [];
  const { deps, calls } = fakeDeps();
  const release = setTimeout(() => held.release(), 300);
  const result = await runReproduce(
    options(out, { log: (l) => lines.push(l), lockOptions: { pollMs: 10 } }),
    deps,
  );
  clearTimeout(release);
  assert.ok(
    lines.some((l) => /alpha vtadl seed 0: another process is running this cell; coming back/.test(l)),
  );
  assert.deepEqual(calls.train.map((c) => c.category), ["beta", "alpha"], "the held cell runs last");
  assert.deepEqual(result.outcomes.map((o) => o.category), ["alpha", "beta"], "outcomes in plan order");
  assert.ok(result.outcomes.every((o) => o.status === "completed"));
});
