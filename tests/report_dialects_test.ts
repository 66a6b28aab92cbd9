import assert from "node:assert/strict";
import { METRIC_DIALECT_NAMES, METRICS } from "../src/core/metrics.ts";
import { PUBLISHED_TABLES, TABLE3_MVTEC, TABLE4_BTAD } from "../src/report/published.ts";
import { dialectComparisonRows } from "../src/report/dialect_compare.ts";
import { groupRecords, renderDatasetTable } from "../src/report/tables.ts";
import type { DialectValue } from "../src/runs/record.ts";
import { completedRecord } from "./helpers/run_records.ts";

const ader200 = (value: number): DialectValue => ({
  variant: "au-pro/ader-200",
  metric: "auPro",
  definition: "AU-PRO@0.3",
  dialect: "ader-200",
  label: "AU-PRO@0.3, ADer (200 thresholds, FPR rescaled)",
  value,
  scoredBy: "error",
  source: "zhangzjn/ADer",
});

Deno.test("every published column names its dialect and the metric of ours it is set against", () => {
  for (const table of Object.values(PUBLISHED_TABLES)) {
    for (const col of table!.columns) {
      assert.ok(
        col.dialect === "unknown" || (METRIC_DIALECT_NAMES as readonly string[]).includes(col.dialect),
        `${table!.id}/${col.id}`,
      );
      assert.ok(col.compareWith in METRICS, `${table!.id}/${col.id}`);
    }
  }
  // The AE baselines of Table IV are PR-AUC of an unpublished variant: no dialect can be claimed.
  assert.ok(TABLE4_BTAD.columns.filter((c) => c.id.startsWith("ae-")).every((c) => c.dialect === "unknown"));
});

Deno.test("Table III: a difference only in the same dialect; another dialect of ours names the published one", () => {
  const records = [
    completedRecord("mvtec", "carpet", "vtadl", { vtadlCodePro: 0.8, auPro: 0.3 }),
    completedRecord("mvtec", "grid", "vtadl", { vtadlCodePro: 0.9, auPro: 0.4 }),
    completedRecord("mvtec", "carpet", "ae-mse", { auPro: 0.5 }, { dialectValues: [ader200(0.6)] }),
  ];
  const rows = dialectComparisonRows(TABLE3_MVTEC, groupRecords(records));
  // Published columns of our models: AE MSE (AU-PRO) → ae-mse; VT-ADL ("PRO" = pixel AUROC) → vtadl.
  const vtadl = rows.find((r) => r.published.startsWith("VT-ADL"))!;
  assert.equal(vtadl.rows, 2);
  assert.ok(Math.abs(vtadl.publishedMean! - (0.773 + 0.871) / 2) < 1e-12);
  assert.ok(Math.abs(vtadl.delta! - ((0.8 + 0.9) / 2 - (0.773 + 0.871) / 2)) < 1e-12);

  const ae = rows.filter((r) => r.published === "AE MSE");
  assert.deepEqual(ae.map((r) => r.ourDialect), ["official", "ader-200"]);
  assert.ok(Math.abs(ae[0].delta! - (0.5 - 0.456)) < 1e-12);
  assert.equal(ae[1].delta, null);
  assert.equal(ae[1].note, "not compared: the published number is in the official dialect, ours in ader-200");

  const md = renderDatasetTable("mvtec", records);
  assert.match(md, /\*\*Ours vs published, same dialect only\*\*/);
  assert.match(
    md,
    /\| AE MSE \| official \| AE MSE ours[^|]*: AU-PRO@0\.3 \| official \| 1 \| 0\.456 \| 0\.500 \| \+0\.044 \|/,
  );
  assert.match(
    md,
    /\| AE MSE \| official \| [^|]*: au-pro\/ader-200 \| ader-200 \|[^\n]*not compared: the published number is in the official dialect/,
  );
  // The AE SSIM baseline is not our model (SSIM-only training): no comparison row claims it.
  assert.ok(!rows.some((r) => r.published === "AE SSIM"));
});

Deno.test("Table IV: a published number of unknown dialect is never differenced", () => {
  const records = [
    completedRecord("btad", "01", "ae-mse", { prAucTrapezoid: 0.6 }),
    completedRecord("btad", "01", "vtadl", { prAucTrapezoid: 0.95, vtadlCodePro: 0.9 }),
  ];
  const rows = dialectComparisonRows(TABLE4_BTAD, groupRecords(records));
  const ae = rows.find((r) => r.published === "AE MSE")!;
  assert.equal(ae.delta, null);
  assert.match(ae.note, /published dialect is unknown \(PR-AUC \(variant unpublished\)\)/);
  assert.equal(ae.publishedMean, 0.49);
  const prauc = rows.find((r) => r.published === "PR AUC ours (VT-ADL)")!;
  assert.ok(Math.abs(prauc.delta! - (0.95 - 0.99)) < 1e-12);
  assert.match(renderDatasetTable("btad", records), /−0\.040/);
});

Deno.test("no comparison section without a run of a published model", () => {
  const records = [completedRecord("mnist", "0", "ae-ssim", { imageAuroc: 0.9 })];
  assert.deepEqual(dialectComparisonRows(PUBLISHED_TABLES.mnist!, groupRecords(records)), []);
  assert.doesNotMatch(renderDatasetTable("mnist", records), /Ours vs published/);
});
