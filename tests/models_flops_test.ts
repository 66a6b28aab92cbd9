import assert from "node:assert/strict";
import { resolveConfig } from "../src/models/configs.ts";
import { flopCounts } from "../src/models/flops.ts";

const near = (actual: number, expected: number, tol: number) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${actual} vs ${expected}`);

Deno.test("code forward FLOPs match the original's counts (docs/original-code.md §11)", () => {
  const f = flopCounts(resolveConfig("vtadl", "code"));
  near(f.encoder / 1e9, 2.493, 0.001);
  near(f.projection / 1e9, 0.034, 0.001);
  near(f.decoder / 1e9, 8.979, 0.001);
  near(f.mdn / 1e9, 0.672, 0.001);
  near(f.forward / 1e9, 12.18, 0.01);
  near(f.ssim / 1e9, 0.95, 0.01);
});

Deno.test("paper forward FLOPs (K = 150) are 21.58 G", () => {
  const f = flopCounts(resolveConfig("vtadl", "paper"));
  near(f.mdn / 1e9, 10.08, 0.01);
  near(f.forward / 1e9, 21.58, 0.01);
});
