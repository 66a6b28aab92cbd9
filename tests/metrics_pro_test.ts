import assert from "node:assert/strict";
import { auPro, PairwiseStream, pairwiseSum, trapezoidToLimit } from "../src/metrics/mod.ts";
import type { MaskMap, ScoreMap } from "../src/metrics/mod.ts";

const f32 = (w: number, h: number, v: number[]): ScoreMap => ({
  width: w,
  height: h,
  data: new Float32Array(v),
});
const m8 = (w: number, h: number, v: number[]): MaskMap => ({ width: w, height: h, data: new Uint8Array(v) });
const close = (a: number, b: number, tol = 1e-15) => assert.ok(Math.abs(a - b) <= tol, `${a} vs ${b}`);

Deno.test("AU-PRO is 1 when every defect pixel outranks every normal pixel", () => {
  // PRO jumps to 1 at FPR 0 and stays there: area to 0.3 = 0.3, / 0.3 = 1.
  const r = auPro([f32(3, 1, [0.2, 0.9, 0.1])], [m8(3, 1, [0, 255, 0])]);
  close(r.auPro, 1);
  assert.equal(r.nRegions, 1);
  assert.equal(r.nOkPixels, 2);
  assert.equal(r.degenerate, false);
});

Deno.test("AU-PRO averages over regions, not pixels", () => {
  // 5×2 map. Region A = 3 pixels scoring 0.9 (found at once); region B = the lone pixel at row 1,
  // column 4 (not touching A, even diagonally), scoring 0.0 (found last). Six normals score 0.5.
  // PRO = (1 + 0)/2 = ½ from FPR 0 up to FPR 1 → AU-PRO ½ (a pixel average would give ¾).
  const map = f32(5, 2, [0.9, 0.9, 0.9, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.0]);
  const mask = m8(5, 2, [1, 1, 1, 0, 0, 0, 0, 0, 0, 1]);
  const r = auPro([map], [mask]);
  close(r.auPro, 0.5);
  assert.equal(r.nRegions, 2);
});

Deno.test("regions are labelled per image: touching defects in two images are two regions", () => {
  const r = auPro([f32(1, 2, [0.9, 0.1]), f32(1, 2, [0.8, 0.2])], [m8(1, 2, [0, 1]), m8(1, 2, [1, 0])]);
  assert.equal(r.nRegions, 2);
  assert.equal(r.nOkPixels, 2);
});

Deno.test("the curve starts at (0, 0), has one point per distinct score and stops past the limit", () => {
  // Scores: defect 0.9, normals 0.7, 0.7 (tie), 0.3, 0.1 (N_ok = 4). Points: (0,0), (0,1) [0.9],
  // (fround(2/4)=0.5, 1) [0.7 tie, one point] → 0.5 > 0.3, so the walk stops there.
  const r = auPro([f32(5, 1, [0.9, 0.7, 0.7, 0.3, 0.1])], [m8(5, 1, [1, 0, 0, 0, 0])]);
  assert.deepEqual(Array.from(r.curve.fpr), [0, 0, 0.5]);
  assert.deepEqual(Array.from(r.curve.pro), [0, 1, 1]);
  assert.equal(r.nCurvePoints, 3);
  // With limit 1 the whole curve is kept, ending with the official duplicate (1, 1).
  const full = auPro([f32(5, 1, [0.9, 0.7, 0.7, 0.3, 0.1])], [m8(5, 1, [1, 0, 0, 0, 0])], {
    integrationLimit: 1,
  });
  assert.deepEqual(Array.from(full.curve.fpr), [0, 0, 0.5, 0.75, 1, 1]);
  close(full.auPro, 1);
});

Deno.test("the limit is interpolated linearly inside a rising segment", () => {
  // Region of 2 pixels at 0.8 and 0.2; normals 0.6 and 0.4 (N_ok = 2). Points: (0,0), (0,½) [0.8],
  // (½,½) [0.6], (1,½) [0.4], (1,1) [0.2]. Limit 0.75 lies on (½,½)–(1,½): area ½·0.75 → AU-PRO ½.
  // Limit 1: area = ½ (flat) + 0 (vertical) → ½.
  const map = f32(2, 2, [0.8, 0.6, 0.4, 0.2]), mask = m8(2, 2, [1, 0, 0, 1]);
  close(auPro([map], [mask], { integrationLimit: 0.75 }).auPro, 0.5);
  close(auPro([map], [mask], { integrationLimit: 1 }).auPro, 0.5);
  // Normals 0.6 and 0.1 instead: points (0,0), (0,½), (½,½), (½,1) [0.2], (1,1). Limit 0.75 → area
  // ½·½ + ¼·1 = ½ → AU-PRO ⅔.
  const map2 = f32(2, 2, [0.8, 0.6, 0.1, 0.2]);
  close(auPro([map2], [mask], { integrationLimit: 0.75 }).auPro, 0.5 / 0.75);
});

Deno.test("no defect anywhere gives the official degenerate 0.15 with a warning and the counts", () => {
  // Official curve is (0,0)–(1,1) only: area to 0.3 = ½·0.3·0.3 = 0.045; / 0.3 = 0.15.
  const r = auPro([f32(2, 2, [0.1, 0.2, 0.3, 0.4])], [m8(2, 2, [0, 0, 0, 0])]);
  close(r.auPro, 0.15);
  assert.equal(r.degenerate, true);
  assert.equal(r.nRegions, 0);
  assert.equal(r.nOkPixels, 4);
  assert.match(r.warnings[0], /degenerate: no defect region.*regions 0, OK pixels 4/);
  // No normal pixel at all: same official value.
  const all = auPro([f32(2, 1, [0.1, 0.2])], [m8(2, 1, [1, 1])]);
  close(all.auPro, 0.15);
  assert.match(all.warnings[0], /no normal \(mask 0\) pixel/);
});

Deno.test("FPR modes: float32 rounds like the official code, float64 does not", () => {
  // Normal 0.9, defect 0.5, normals 0.2, 0.1 (N_ok = 3), limit 0.5: AU-PRO = (0.5 − x₁)/0.5 with
  // x₁ = FPR after one normal pixel: fround(1/3) (float32) or 1/3 (float64).
  const maps = [f32(4, 1, [0.9, 0.5, 0.2, 0.1])], masks = [m8(4, 1, [0, 1, 0, 0])];
  assert.equal(auPro(maps, masks, { integrationLimit: 0.5 }).auPro, (0.5 - Math.fround(1 / 3)) / 0.5);
  assert.equal(
    auPro(maps, masks, { integrationLimit: 0.5, fprMode: "float32_numpy1" }).auPro,
    (0.5 - Math.fround(1 / 3)) / 0.5,
  );
  assert.equal(auPro(maps, masks, { integrationLimit: 0.5, fprMode: "float64" }).auPro, (0.5 - 1 / 3) / 0.5);
});

Deno.test("float64 maps take the general path and agree with float32 maps holding the same values", () => {
  const values = [0.5, 0.25, -2, 0, -0, 0.25, 8, 1, 0.125];
  const mask = m8(3, 3, [0, 1, 0, 1, 1, 0, 0, 1, 0]);
  const a = auPro([f32(3, 3, values)], [mask], { integrationLimit: 1 });
  const b = auPro([{ width: 3, height: 3, data: new Float64Array(values) }], [mask], { integrationLimit: 1 });
  assert.equal(a.auPro, b.auPro);
  assert.equal(a.scoreDtype, "float32");
  // 0.1 is not a float32 value: the general path keeps float64 precision.
  const c = auPro([{ width: 3, height: 3, data: new Float64Array([...values.slice(0, 8), 0.1]) }], [mask]);
  assert.equal(c.scoreDtype, "float64");
});

Deno.test("maps of different sizes can be evaluated together", () => {
  // Image 0: defect 0.9, normal 0.1. Image 1 (2×2, no defect): normals 0.8, 0.2, 0.3, 0.05. Defect
  // first → PRO 1 at FPR 0 → AU-PRO 1.
  const r = auPro([f32(2, 1, [0.9, 0.1]), f32(2, 2, [0.8, 0.2, 0.3, 0.05])], [
    m8(2, 1, [1, 0]),
    m8(2, 2, [0, 0, 0, 0]),
  ]);
  close(r.auPro, 1);
  assert.equal(r.nOkPixels, 5);
});

Deno.test("the returned curve is thinned to maxCurvePoints, keeping both ends", () => {
  const n = 200;
  const values = Array.from({ length: n }, (_, i) => i / n);
  const mask = Array.from({ length: n }, (_, i) => (i % 10 === 0 ? 1 : 0));
  const r = auPro([f32(n, 1, values)], [m8(n, 1, mask)], { integrationLimit: 1, maxCurvePoints: 11 });
  assert.equal(r.curve.fpr.length, 11);
  assert.equal(r.curve.fpr[0], 0);
  assert.equal(r.curve.fpr[10], 1);
  assert.equal(r.nCurvePoints, n + 2);
});

Deno.test("bad inputs: NaN names image and pixel, sizes name the image, limit must be in (0, 1]", () => {
  const ok = f32(2, 1, [0.1, 0.2]), mask = m8(2, 1, [1, 0]);
  assert.throws(
    () => auPro([ok, f32(2, 1, [0.1, NaN])], [mask, mask]),
    /anomaly map 1: score at pixel 1 \(row 0, column 1\) is NaN/,
  );
  assert.throws(
    () => auPro([ok], [m8(1, 2, [1, 0])]),
    /anomaly map 0 is 2×1 \(width×height\) but its mask is 1×2/,
  );
  assert.throws(() => auPro([ok], [mask, mask]), /1 anomaly maps but 2 masks/);
  assert.throws(
    () => auPro([ok], [mask], { integrationLimit: 1.5 }),
    /integration limit must be in \(0, 1\]/,
  );
  assert.throws(() => auPro([], []), /no anomaly maps/);
});

Deno.test("pairwiseSum follows NumPy's blocks: sums of ≥ 8 terms use 8 partial sums", () => {
  // 8 terms [1e16, 1, 1, 1, 1, 1, 1, 1] (ulp of 1e16 is 2). Sequential: every 1e16 + 1 rounds back
  // to 1e16 (tie to even). NumPy: r0..r7 hold one term each, then ((r0+r1) + (r2+r3)) + ((r4+r5) +
  // (r6+r7)) = ((1e16 + 1 → 1e16) + 2) + 4 = 1e16 + 6.
  const terms = [1e16, 1, 1, 1, 1, 1, 1, 1];
  assert.equal(pairwiseSum(8, (i) => terms[i]), 1e16 + 6);
  let sequential = 0;
  for (const t of terms) sequential += t;
  assert.equal(sequential, 1e16);
});

Deno.test("PairwiseStream equals pairwiseSum for every length up to 600", () => {
  const term = (i: number) => Math.sin(i * 12.9898) * 10 ** ((i % 7) - 3);
  for (let n = 0; n <= 600; n++) {
    const stream = new PairwiseStream(n);
    for (let i = 0; i < n; i++) stream.add(term(i));
    assert.equal(stream.sum(), pairwiseSum(n, term), `n = ${n}`);
  }
});

Deno.test("trapezoidToLimit over the returned curve reproduces AU-PRO × limit", () => {
  // With limit 1 the whole curve is returned (unthinned), so the official trapezoid over it must give
  // the same area: curve of the 5-pixel example above is (0,0), (0,1), (½,1), (¾,1), (1,1), (1,1).
  const r = auPro([f32(5, 1, [0.9, 0.7, 0.7, 0.3, 0.1])], [m8(5, 1, [1, 0, 0, 0, 0])], {
    integrationLimit: 1,
  });
  const { area } = trapezoidToLimit(r.curve.fpr, r.curve.pro, r.curve.fpr.length, 1);
  assert.equal(area, r.auPro);
  // Limit 0.6 on the same curve: flat PRO 1 from FPR 0 → area 0.6 (interpolated inside (½,1)–(¾,1)).
  close(trapezoidToLimit(r.curve.fpr, r.curve.pro, r.curve.fpr.length, 0.6).area, 0.6);
  // Non-finite points are dropped and counted, as the official code warns.
  const x = new Float64Array([0, NaN, 1]), y = new Float64Array([0, 0.5, 1]);
  assert.deepEqual(trapezoidToLimit(x, y, 3, 1), { area: 0.5, droppedNonFinite: 1 });
});
