import assert from "node:assert/strict";
import { join } from "node:path";
import { renderCellSummary, type ReproduceOptions, runReproduce } from "../src/eval/pipeline.ts";
import { readRunEvents, readRunRecord, readRunRecords } from "../src/eval/run_record.ts";
import { fakeDeps } from "./fakes/pipeline_fakes.ts";
import { resolveConfig } from "../src/models/configs.ts";

function options(outDir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return {
    dataset: "synthetic",
    models: ["vtadl"],
    configName: "smoke",
    seeds: [0],
    backend: "cpu",
    dataDir: join(outDir, "data"),
    outDir,
    panels: 1,
    log: () => {},
    ...extra,
  };
}

Deno.test("reproduce writes one completed record per cell with consistent fields and events", async () => {
  const out = await Deno.makeTempDir();
  const { deps, calls } = fakeDeps({ epochs: 3 });
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

Deno.test("an interrupted cell is recorded aborted, stops the run, and --resume continues it", async () => {
  const out = await Deno.makeTempDir();
  const controller = new AbortController();
  const first = fakeDeps({ epochs: 4, abortAfterEpochs: { controller, epochs: 2 } });
  const interrupted = await runReproduce(options(out, { signal: controller.signal }), first.deps);
  assert.equal(interrupted.interrupted, true);
  assert.equal(interrupted.outcomes.length, 1, "no further cell starts after an interrupt");
  const rec = interrupted.outcomes[0].record;
  assert.equal(rec.status, "aborted");
  assert.match(rec.error?.message ?? "", /interrupted during train; rerun with --resume/);
  assert.deepEqual(rec.training?.epochs.map((e) => e.epoch), [1, 2]);

  // The same fake trainer instance keeps its "checkpoints", as the real one keeps them on disk.
  const resumed = await runReproduce(options(out, { resume: true }), first.deps);
  assert.deepEqual(resumed.outcomes.map((o) => o.status), ["completed", "completed"]);
  assert.equal(resumed.outcomes[0].runId, interrupted.outcomes[0].runId, "the resumed cell is the same cell");
  const trainCalls = first.calls.train;
  assert.equal(trainCalls[1].resume, true);
  assert.equal(trainCalls[1].checkpointDir, trainCalls[0].checkpointDir);
  assert.deepEqual(resumed.outcomes[0].record.training?.epochs.map((e) => e.epoch), [3, 4]);
  assert.equal(resumed.outcomes[0].record.training?.resumed, true);
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
    /unknown synthetic category nope: choose from alpha, beta/,
  );
  await assert.rejects(
    () => runReproduce(options(out, { evalResolution: "original" }), fakeDeps().deps),
    /--eval-resolution original needs an image decoder/,
  );
});

Deno.test("preprocessing follows the config: resize/crop, mask resize, BTAD direct512", async () => {
  const { preprocessOf } = await import("../src/eval/pipeline.ts");
  const code = resolveConfig("vtadl", "code");
  const paper = resolveConfig("vtadl", "paper");
  assert.deepEqual(preprocessOf("mvtec", code, "c"), {
    resize: 550,
    crop: 512,
    maskResize: "bilinearAnyPositive",
    cacheDir: "c",
  });
  assert.deepEqual(preprocessOf("btad", paper, "c"), {
    resize: 512,
    crop: 512,
    maskResize: "nearest",
    cacheDir: "c",
  });
  assert.equal(preprocessOf("mvtec", paper, "c").resize, 550);
});
