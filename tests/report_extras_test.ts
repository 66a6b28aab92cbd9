import assert from "node:assert/strict";
import {
  renderBreakdownTables,
  renderDialectTables,
  renderEfficiencyTable,
} from "../src/report/run_extras.ts";
import type { Efficiency } from "../src/runs/record.ts";
import { completedRecord } from "./helpers/run_records.ts";

const efficiency = (latency: number, peak: number | null): Efficiency => ({
  protocol: { name: "smoke", warmupRuns: 1, timedRuns: 3, batchSize: 4 },
  parameters: 1_500_000,
  trainableParameters: 1_400_000,
  flopsPerImage: 2.5e9,
  imageSize: 32,
  peakRssBytes: peak,
  peakRssScope: "process",
  trainSeconds: 12,
  latencyMs: { median: latency, mean: latency, min: latency, max: latency },
  throughputImagesPerSecond: 100,
  backend: "cpu",
});

Deno.test("extra tables are empty for records without breakdowns, dialects or efficiency", () => {
  const records = [completedRecord("synthetic", "disc", "vtadl", { imageAuroc: 0.5 })];
  assert.equal(renderBreakdownTables("synthetic", records), "");
  assert.equal(renderDialectTables("synthetic", records), "");
  assert.equal(renderEfficiencyTable(records), "");
});

Deno.test("breakdown table: one row per category and defect type, mean ± std over seeds", () => {
  const breakdowns = (auroc: number) => ({
    dialect: "official" as const,
    integrationLimit: 0.3,
    rows: [
      { defectType: "spot", nAnomalous: 4, nNormal: 6, imageAuroc: auroc, auPro: 0.25, nRegions: 4 },
      { defectType: "missing", nAnomalous: 4, nNormal: 6, imageAuroc: 1, auPro: null, nRegions: 0 },
    ],
  });
  const records = [
    completedRecord("synthetic", "disc", "vtadl", { imageAuroc: 0.5 }, { breakdowns: breakdowns(0.5) }),
    { ...completedRecord("synthetic", "disc", "vtadl", {}, { breakdowns: breakdowns(0.7) }), seed: 1 },
  ];
  const md = renderBreakdownTables("synthetic", records);
  assert.match(md, /\| disc \/ missing \| 4 \| 6 \| 1\.000 ± 0\.000 \| — \|/);
  assert.match(md, /\| disc \/ spot \| 4 \| 6 \| 0\.600 ± 0\.141 \| 0\.250 ± 0\.000 \|/);
  assert.ok(md.indexOf("disc / missing") < md.indexOf("disc / spot"));
});

Deno.test("dialect table names each variant's dialect in its header", () => {
  const records = [completedRecord("synthetic", "disc", "ae-mse", { auPro: 0.4 }, {
    dialectValues: [{
      variant: "au-pro/anomalib-legacy",
      metric: "auPro",
      definition: "AU-PRO@0.3",
      dialect: "anomalib-legacy",
      label: "legacy",
      value: 1.02,
      scoredBy: "error",
      source: "anomalib",
    }],
  })];
  const md = renderDialectTables("synthetic", records);
  assert.match(md, /\| Category \| au-pro\/anomalib-legacy \[anomalib-legacy\] \|/);
  assert.match(md, /\| disc \| 1\.020 \|/);
});

Deno.test("efficiency table: medians over a group's cells, the protocol and the largest peak memory", () => {
  const records = [
    completedRecord("synthetic", "disc", "vtadl", {}, { efficiency: efficiency(10, 2 ** 30) }),
    completedRecord("synthetic", "weave", "vtadl", {}, { efficiency: efficiency(30, 2 ** 29) }),
    completedRecord("synthetic", "lattice", "vtadl", {}, { efficiency: efficiency(20, null) }),
  ];
  const md = renderEfficiencyTable(records);
  assert.match(
    md,
    /\| synthetic \| VT-ADL ours[^|]* \| 3 \| 1\.500 M \| 2\.500 \| 1024 MiB \| 12\.0 s \| 20\.00 \| 100\.0 \| smoke \(1\+3, batch 4\) \| cpu \|/,
  );
});
