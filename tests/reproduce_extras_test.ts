import assert from "node:assert/strict";
import { join } from "node:path";
import { type ReproduceOptions, runReproduce } from "../src/pipeline/runner.ts";
import { readRunRecords } from "../src/runs/store.ts";
import { selectDialectVariants } from "../src/core/metrics.ts";
import { modelOf } from "../src/core/models.ts";
import { flopCounts } from "../src/models/flops.ts";
import {
  EFFICIENCY_PROTOCOLS,
  efficiencyOf,
  efficiencyProtocolFor,
  parameterCounts,
  peakMemoryBytes,
  timeForwards,
} from "../src/eval/efficiency.ts";
import { command as reproduceCommand, reproduceOptionsFromFlags } from "../src/cli/reproduce.ts";
import { resolveConfig } from "../src/models/configs.ts";
import { fakeDeps, reproduceOptions } from "./fakes/pipeline_fakes.ts";

function options(outDir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return reproduceOptions(outDir, { configOverrides: { epochs: "2" }, ...extra });
}

Deno.test("timeForwards: warm-up runs untimed, then timed runs of batch 1 and of the batch size, synchronised around each", async () => {
  const calls: number[] = [];
  const events: string[] = [];
  let clock = 0;
  const timings = await timeForwards({
    forward: (batch) => {
      calls.push(batch.length);
      events.push("forward");
      clock += 10 * batch.length;
      return Promise.resolve();
    },
    inputs: ["a", "b", "c"],
    protocol: { name: "t", warmupRuns: 2, timedRuns: 3, batchSize: 5 },
    synchronize: () => {
      events.push("sync");
      return Promise.resolve();
    },
    now: () => clock,
  });
  assert.deepEqual(calls, [1, 1, 1, 1, 1, 5, 5, 5, 5, 5]);
  assert.deepEqual(timings.latencyMs, [10, 10, 10]);
  assert.deepEqual(timings.batchMs, [50, 50, 50]);
  // Every forward is bracketed by synchronisations, so the clock never reads queued work.
  for (let i = 0; i < events.length; i++) {
    if (events[i] === "forward") assert.deepEqual([events[i - 1], events[i + 1]], ["sync", "sync"]);
  }
  const eff = efficiencyOf({
    config: resolveConfig("vtadl", "smoke", {}),
    protocol: { name: "t", warmupRuns: 2, timedRuns: 3, batchSize: 5 },
    timings,
    trainSeconds: 1.5,
    peakRssBytes: null,
    peakRssScope: "process",
    backend: "cpu",
  });
  assert.equal(eff.throughputImagesPerSecond, 5 / 0.05);
  assert.deepEqual(eff.latencyMs, { median: 10, mean: 10, min: 10, max: 10 });
});

Deno.test("efficiency protocols are data: smoke for the smoke config, standard (2 + 10) otherwise", () => {
  assert.equal(efficiencyProtocolFor("smoke"), EFFICIENCY_PROTOCOLS.smoke);
  assert.equal(efficiencyProtocolFor("code"), EFFICIENCY_PROTOCOLS.standard);
  assert.deepEqual(
    [EFFICIENCY_PROTOCOLS.standard.warmupRuns, EFFICIENCY_PROTOCOLS.standard.timedRuns],
    [2, 10],
  );
  assert.deepEqual([EFFICIENCY_PROTOCOLS.smoke.warmupRuns, EFFICIENCY_PROTOCOLS.smoke.timedRuns], [1, 3]);
  // A high-water mark is about at least what is resident now (the kernel and Deno sample RSS differently).
  const rss = Deno.memoryUsage().rss;
  const hwm = peakMemoryBytes();
  if (Deno.build.os === "linux") assert.ok(hwm !== null && hwm >= 0.5 * rss, `${hwm} < ${rss}`);
});

Deno.test("reproduce records a per-defect breakdown and efficiency for every cell; off skips efficiency", async () => {
  const out = await Deno.makeTempDir();
  const { deps } = fakeDeps();
  await runReproduce(options(out, { models: ["vtadl", "ae-mse"] }), deps);
  const { records } = await readRunRecords(join(out, "runs"));
  assert.equal(records.length, 4);
  for (const r of records) {
    // One defect type ("bad") against all the normal images is the whole test set: the breakdown row
    // must equal the category's own metrics.
    const rows = r.breakdowns!.rows;
    assert.deepEqual(rows.map((x) => x.defectType), ["bad"]);
    assert.equal(rows[0].imageAuroc, r.metrics.find((m) => m.key === "imageAuroc")!.value);
    assert.equal(rows[0].auPro, r.metrics.find((m) => m.key === "auPro")!.value);
    assert.equal(rows[0].nAnomalous + rows[0].nNormal, r.dataset.counts!.test);
    assert.ok(r.metrics.every((m) => m.dialect === "official"));
    assert.equal(r.dialectValues, undefined);

    const e = r.efficiency!;
    const config = r.config.resolved;
    assert.equal(e.protocol.name, "smoke");
    assert.equal(e.parameters, parameterCounts(config).parameters);
    const specs = modelOf(config).paramSpecs(config);
    assert.equal(e.parameters, specs.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0));
    assert.ok(e.trainableParameters <= e.parameters && e.trainableParameters > 0);
    assert.equal(e.flopsPerImage, flopCounts(config).forward);
    assert.ok(e.latencyMs.min <= e.latencyMs.median && e.latencyMs.median <= e.latencyMs.max);
    assert.ok(e.throughputImagesPerSecond > 0);
    assert.equal(e.trainSeconds, r.training!.epochs.reduce((a, x) => a + x.seconds, 0));
  }
  const out2 = await Deno.makeTempDir();
  await runReproduce(options(out2, { efficiency: "off", breakdown: false }), fakeDeps().deps);
  const plain = (await readRunRecords(join(out2, "runs"))).records;
  assert.ok(plain.every((r) => r.efficiency === undefined && r.breakdowns === undefined));
});

Deno.test("--dialects: a completed cell without them is evaluated again (no training), then skipped", async () => {
  const out = await Deno.makeTempDir();
  const fake = fakeDeps(); // one fake keeps its checkpoints, as the disk does
  await runReproduce(options(out), fake.deps);
  const before = (await readRunRecords(join(out, "runs"))).records;
  assert.ok(before.every((r) => r.training?.resumed === false));
  const dialects = selectDialectVariants(["au-pro/ader-200", "f1-max/image"]);
  const again = await runReproduce(options(out, { dialects }), fake.deps);
  assert.ok(again.outcomes.every((o) => o.status === "completed"));
  const after = (await readRunRecords(join(out, "runs"))).records;
  assert.equal(after.length, before.length, "same cells, same run ids");
  for (const r of after) {
    const old = before.find((b) => b.runId === r.runId)!;
    assert.equal(r.training?.resumed, true, "continued from the finished checkpoint, not trained again");
    assert.deepEqual(r.training?.epochs, [], "no epoch was trained");
    assert.deepEqual(r.metrics.map((m) => m.value), old.metrics.map((m) => m.value));
    assert.deepEqual(r.dialectsRequested, ["f1-max/image", "au-pro/ader-200"]);
    assert.deepEqual(r.dialectValues!.map((d) => [d.variant, d.dialect]), [
      ["f1-max/image", "official"],
      ["au-pro/ader-200", "ader-200"],
    ]);
  }
  const third = await runReproduce(options(out, { dialects: dialects.slice(0, 1) }), fake.deps);
  assert.ok(third.outcomes.every((o) => o.status === "skipped"), "a subset of what was computed is covered");
});

Deno.test("reproduce flags: --dialects, --no-breakdown and --efficiency reach the options", () => {
  const parse = (argv: string[]) => {
    const parsed = reproduceCommand.parse(argv);
    return reproduceOptionsFromFlags(parsed.flags, parsed.positionals);
  };
  const o = parse(["--dialects", "ader-200,anomalib-legacy", "--no-breakdown", "--efficiency", "off"]);
  assert.deepEqual(o.dialects!.map((v) => v.key), ["au-pro/ader-200", "au-pro/anomalib-legacy"]);
  assert.equal(o.breakdown, false);
  assert.equal(o.efficiency, "off");
  const d = parse([]);
  assert.equal(d.dialects, undefined);
  assert.equal(d.breakdown, true);
  assert.equal(d.efficiency, "auto");
});
