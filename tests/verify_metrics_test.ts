import assert from "node:assert/strict";
import {
  bruteAuPro,
  bruteAveragePrecision,
  brutePrAuc,
  bruteRegions,
  goldenCases,
  runVerification,
} from "../src/metrics/verification.ts";
import { renderVerification } from "../src/cli/verify_metrics.ts";
import { main } from "../main.ts";

Deno.test("every golden case matches its hand-derived value", () => {
  for (const c of goldenCases()) {
    assert.ok(Math.abs(c.actual() - c.expected) <= c.tolerance, `${c.name}: ${c.actual()} vs ${c.expected}`);
  }
});

Deno.test("the brute-force references reproduce hand-derived values", () => {
  // sklearn doc example (see metrics_image_test.ts): AP 5/6, trapezoid 19/24.
  assert.ok(Math.abs(bruteAveragePrecision([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 5 / 6) < 1e-15);
  assert.ok(Math.abs(brutePrAuc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) - 19 / 24) < 1e-15);
  // Diagonal pair is one region of 2.
  assert.deepEqual(bruteRegions({ width: 2, height: 2, data: new Uint8Array([1, 0, 0, 1]) }).sizes, [2]);
  // Perfect map → 1; no defect → official 0.15.
  const map = { width: 2, height: 1, data: new Float32Array([0.9, 0.1]) };
  assert.ok(
    Math.abs(
      bruteAuPro([map], [{ width: 2, height: 1, data: new Uint8Array([1, 0]) }], 0.3, "float32").auPro - 1,
    ) < 1e-15,
  );
  assert.ok(
    Math.abs(
      bruteAuPro([map], [{ width: 2, height: 1, data: new Uint8Array(2) }], 0.3, "float32").auPro - 0.15,
    ) < 1e-15,
  );
});

Deno.test("a short verification run passes every group", () => {
  const report = runVerification({ seed: 7, randomCases: 40 });
  assert.equal(report.failedCases, 0, renderVerification(report));
  assert.ok(report.groups.every((g) => g.cases > 0));
  assert.ok(report.totalCases > 200);
});

Deno.test("the table marks failures and the command exits 0 only when all pass", async () => {
  const failing = {
    groups: [{ name: "x", cases: 2, failed: 1, maxError: 0.5, firstFailure: "case 1: got 1, expected 0" }],
    totalCases: 2,
    failedCases: 1,
    seconds: 0.1,
  };
  const table = renderVerification(failing);
  assert.match(table, /FAIL\s+x\s+2\s+1\s+5\.0e-1/);
  assert.match(table, /first failure in "x": case 1/);
  const log = console.log;
  console.log = () => {};
  try {
    assert.equal(await main(["verify-metrics", "--cases", "5"]), 0);
  } finally {
    console.log = log;
  }
});
