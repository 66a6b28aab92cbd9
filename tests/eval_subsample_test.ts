import assert from "node:assert/strict";
import { join } from "node:path";
import { evenlySpaced, subsampleSplit } from "../src/eval/subsample.ts";
import { runReproduce } from "../src/pipeline/runner.ts";
import { renderDatasetTable } from "../src/report/tables.ts";
import { fakeDeps, fakeSplit } from "./fakes/pipeline_fakes.ts";

Deno.test("evenly spaced picks keep order and take all when n ≥ length", () => {
  assert.deepEqual(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4), [0, 2, 5, 7]);
  assert.deepEqual(evenlySpaced([1, 2], 5), [1, 2]);
});

Deno.test("subsampling keeps the normal/anomalous ratio and the test order", () => {
  const split = fakeSplit("mnist", "0"); // 6 train, 5 normal + 5 anomalous test
  const small = subsampleSplit(split, { maxTrain: 3, maxTest: 4 });
  assert.equal(small.train.length, 3);
  assert.deepEqual(small.test.map((s) => s.label), [0, 0, 1, 1]);
  const positions = small.test.map((s) => split.test.indexOf(s));
  assert.deepEqual(positions, [...positions].sort((a, b) => a - b));
  assert.equal(subsampleSplit(split, {}).test, split.test);
  assert.throws(() => subsampleSplit(split, { maxTest: 1 }), /maxTest must be an integer ≥ 2/);
});

Deno.test("subsampled runs are recorded, keyed apart from full runs, and labelled in tables", async () => {
  const out = await Deno.makeTempDir();
  const base = {
    dataset: "synthetic" as const,
    models: ["vtadl" as const],
    configName: "smoke",
    seeds: [0],
    backend: "cpu" as const,
    dataDir: join(out, "data"),
    outDir: out,
    categories: ["alpha"],
    panels: 0,
    log: () => {},
  };
  const full = await runReproduce(base, fakeDeps().deps);
  const sub = await runReproduce({ ...base, limits: { maxTrain: 4, maxTest: 6 } }, fakeDeps().deps);
  assert.equal(sub.outcomes[0].status, "completed", "a subsampled cell is not the full cell");
  assert.notEqual(sub.outcomes[0].runId, full.outcomes[0].runId);
  const record = sub.outcomes[0].record;
  assert.deepEqual(record.dataset.subsample, { maxTrain: 4, maxTest: 6 });
  assert.deepEqual(record.dataset.counts, { train: 4, test: 6, testAnomalous: 3 });
  const md = renderDatasetTable("synthetic", [full.outcomes[0].record, record]);
  assert.match(md, /VT-ADL ours \(smoke, score code, subsampled: train ≤ 4, test ≤ 6\)/);
  assert.match(md, /\*\*VT-ADL ours \(smoke, score code\)\*\*\n\n\| Category \| image AUROC/);
});
