/**
 * End to end with the real data layer, trainer and metric engine: the offline `synthetic` dataset with
 * the `smoke` config, and Fashion-MNIST from the Debian package when it is installed (tiny subsets).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadLock, lockDigest } from "../src/datasets/lock.ts";
import { configHash, resolveConfig } from "../src/models/configs.ts";
import type { PipelineDeps } from "../src/pipeline/deps.ts";
import type { TrainOptions } from "../src/train/trainer.ts";
import { type ReproduceOptions, runReproduce } from "../src/pipeline/runner.ts";
import { loadRealDeps } from "../src/pipeline/real_deps.ts";
import { readRunEvents } from "../src/runs/store.ts";
import { writeReport } from "../src/report/write_report.ts";

const FASHION_MNIST_DEBIAN = "/usr/share/datasets/fashion-mnist";

function baseOptions(dir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return {
    dataset: "synthetic",
    models: ["vtadl"],
    configName: "smoke",
    seeds: [0],
    backend: "cpu",
    dataDir: join(dir, "data"),
    outDir: join(dir, "reports"),
    panels: 1,
    log: () => {},
    ...extra,
  };
}

/** Real deps whose trainer calls are counted (and optionally intercepted). */
function counting(deps: PipelineDeps, intercept?: (o: TrainOptions) => TrainOptions) {
  const calls: TrainOptions[] = [];
  const wrapped: PipelineDeps = {
    ...deps,
    trainModel: (o) => {
      calls.push(o);
      return deps.trainModel(intercept ? intercept(o) : o);
    },
  };
  return { deps: wrapped, calls };
}

function tableRows(md: string): string[][] {
  return md.split("\n").filter((l) => l.startsWith("| ")).map((l) =>
    l.split("|").slice(1, -1).map((c) => c.trim())
  );
}

Deno.test("synthetic/smoke end to end: consistent records, tables, a failing cell aborted, rerun skipped", async () => {
  const dir = await Deno.makeTempDir();
  const real = await loadRealDeps();
  const failing: PipelineDeps = {
    ...real,
    loadCategorySplit: (dataset, root, category, pre) =>
      category === "lattice"
        ? Promise.reject(new Error("cannot decode image lattice/test/good/000.png: truncated"))
        : real.loadCategorySplit(dataset, root, category, pre),
  };
  const first = counting(failing);
  const result = await runReproduce(baseOptions(dir, { categories: ["disc", "lattice"] }), first.deps);
  assert.deepEqual(result.outcomes.map((o) => o.status), ["completed", "aborted"]);
  assert.equal(first.calls.length, 1);

  const done = result.outcomes[0].record;
  const config = resolveConfig("vtadl", "smoke");
  assert.deepEqual(done.config.resolved, config);
  assert.equal(done.config.hash, configHash(config));
  assert.equal(done.dataset.lockDigest, lockDigest(await loadLock(), "synthetic"));
  assert.match(done.dataset.licence, /CC0/);
  assert.ok(done.dataset.counts!.train > 0 && done.dataset.counts!.testAnomalous > 0);
  assert.equal(done.training!.epochs.length, config.epochs);
  assert.ok(done.training!.epochs.every((e) => Number.isFinite(e.loss)));
  assert.equal(done.backend.name, "cpu");
  assert.equal(done.evaluation.imageScore, "code");
  assert.equal(done.evaluation.heatmapSigma, 4);
  for (const m of done.metrics) assert.ok(m.value >= 0 && m.value <= 1, `${m.key} = ${m.value}`);
  assert.equal(done.metrics.length, 6);
  assert.ok(done.artifacts.some((a) => a.startsWith("panels/")));
  const events = await readRunEvents(join(dir, "reports", "runs", done.runId));
  assert.deepEqual(
    [...new Set(events.map((e) => e.key))],
    [
      "run_start",
      "seed",
      "train_samples",
      "eval_samples",
      "epoch_start",
      "epoch_stop",
      "eval_accuracy",
      "run_stop",
    ],
  );
  assert.equal(events.at(-1)!.metadata.status, "success");

  const aborted = result.outcomes[1].record;
  assert.equal(aborted.error?.stage, "load");
  assert.match(aborted.error?.message ?? "", /truncated/);

  const report = await writeReport({ runsDir: join(dir, "reports", "runs"), outDir: join(dir, "reports") });
  // The dataset's paper-layout table: the section before the extra tables (per defect type) and the leaderboard.
  const rows = tableRows(report.markdown.split("\n### ")[1]);
  assert.match(report.markdown, /### synthetic: per defect type[^\n]*\n/);
  assert.deepEqual(rows.slice(1).map((r) => r[0]), ["disc", "lattice", "weave", "Mean"]);
  assert.equal(rows[0].length, 6, "category + image AUROC, code PRO, AU-PRO, PR-AUC, AP");
  assert.equal(rows[2][1], "—", "the aborted cell is missing, not guessed");
  assert.equal(rows[3][1], "—", "a category not run is a row of —");
  assert.match(rows[4][1], /^\d\.\d{3} \(1\/3\)$/, "the mean over 1 of 3 categories says so");
  assert.equal(rows[1][1], done.metrics.find((m) => m.key === "imageAuroc")!.value.toFixed(3));
  assert.match(report.markdown, /Not shown \(1 unfinished cell\): lattice vtadl seed 0 \(aborted/);

  const second = counting(real);
  const again = await runReproduce(baseOptions(dir, { categories: ["disc"] }), second.deps);
  assert.deepEqual(again.outcomes.map((o) => o.status), ["skipped"]);
  assert.equal(second.calls.length, 0);
});

Deno.test("an interrupted synthetic cell continues from its checkpoint when the same command runs again", async () => {
  const dir = await Deno.makeTempDir();
  const real = await loadRealDeps();
  const controller = new AbortController();
  const first = counting(real, (o) => ({
    ...o,
    onEpoch: (r) => {
      o.onEpoch?.(r);
      if (r.epoch === 1) controller.abort();
    },
  }));
  const options = baseOptions(dir, { categories: ["weave"], configOverrides: { epochs: "2" }, panels: 0 });
  const stopped = await runReproduce({ ...options, signal: controller.signal }, first.deps);
  assert.equal(stopped.interrupted, true);
  assert.equal(stopped.outcomes[0].record.status, "aborted");
  assert.deepEqual(stopped.outcomes[0].record.training?.epochs.map((e) => e.epoch), [1]);

  const second = counting(real);
  const resumed = await runReproduce(options, second.deps);
  assert.equal(resumed.outcomes[0].status, "completed");
  assert.equal(resumed.outcomes[0].runId, stopped.outcomes[0].runId);
  assert.equal(resumed.outcomes[0].record.training?.resumed, true);
  assert.equal(second.calls[0].checkpointDir, first.calls[0].checkpointDir);
  assert.deepEqual(resumed.outcomes[0].record.training?.epochs.map((e) => e.epoch), [1, 2]);
});

const hasFashionMnist = (() => {
  try {
    return Deno.statSync(join(FASHION_MNIST_DEBIAN, "t10k-labels-idx1-ubyte.gz")).isFile;
  } catch {
    return false;
  }
})();
if (!hasFashionMnist) {
  console.warn(
    `skipping the Fashion-MNIST end-to-end test: ${FASHION_MNIST_DEBIAN} is absent (apt-get install dataset-fashion-mnist)`,
  );
}

Deno.test({
  name: "Fashion-MNIST from the Debian package: a Table II row from a tiny mnist-config run",
  ignore: !hasFashionMnist,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const result = await runReproduce(
      baseOptions(dir, {
        dataset: "fashion-mnist",
        configName: "mnist",
        configOverrides: { epochs: "1" },
        categories: ["7"],
        mirrors: [FASHION_MNIST_DEBIAN],
        offline: true,
        limits: { maxTrain: 8, maxTest: 40 },
      }),
      await loadRealDeps(),
    );
    const record = result.outcomes[0].record;
    assert.equal(record.status, "completed", record.error?.message ?? "");
    assert.equal(record.evaluation.imageScore, "recon");
    assert.deepEqual(record.dataset.counts, { train: 8, test: 40, testAnomalous: 36 });
    assert.deepEqual(record.metrics.map((m) => m.key), ["imageAuroc", "averagePrecision", "prAucTrapezoid"]);
    const report = await writeReport({ runsDir: join(dir, "reports", "runs"), outDir: join(dir, "reports") });
    // The dataset's paper-layout table: the section before the extra tables (per defect type) and the leaderboard.
    const rows = tableRows(report.markdown.split("\n### ")[1]);
    const sneaker = rows.find((r) => r[0] === "7 Sneaker")!;
    assert.match(sneaker.at(-1)!, /^0\.\d{3}$|^1\.000$/);
    assert.equal(rows.find((r) => r[0] === "0 T-shirt/top")!.at(-1), "—");
  },
});
