import assert from "node:assert/strict";
import { pixelAuroc, vtadlCodePro } from "../src/metrics/mod.ts";

const f32 = (w: number, h: number, v: number[]) => ({ width: w, height: h, data: new Float32Array(v) });
const m8 = (w: number, h: number, v: number[]) => ({ width: w, height: h, data: new Uint8Array(v) });

Deno.test("pixel AUROC pools every pixel of every image", () => {
  // Defects 0.9 (image 0) and 0.3 (image 1); normals 0.5 and 0.1. Pairs ordered: 0.9>0.5, 0.9>0.1,
  // 0.3>0.1, not 0.3>0.5 → 3/4. Per-image AUROCs would both be 1.
  const maps = [f32(2, 1, [0.9, 0.5]), f32(2, 1, [0.3, 0.1])];
  const masks = [m8(2, 1, [255, 0]), m8(2, 1, [1, 0])];
  assert.equal(pixelAuroc(maps, masks), 0.75);
});

Deno.test("pixel AUROC counts ties ½ and includes defect-free images", () => {
  // Defect 0.5; normals 0.5 (tie, ½) and 0.2, 0.7 from a defect-free image: (½ + 1 + 0)/3 = ½.
  const maps = [f32(2, 1, [0.5, 0.5]), f32(2, 1, [0.2, 0.7])];
  const masks = [m8(2, 1, [1, 0]), m8(2, 1, [0, 0])];
  assert.equal(pixelAuroc(maps, masks), 0.5);
});

Deno.test("float64 maps give the same pixel AUROC as their float32 values", () => {
  const values = [0.25, -1, 3, 0.25, 0, -0, 7, 0.5];
  const mask = m8(4, 2, [1, 0, 1, 0, 0, 1, 0, 1]);
  const a = pixelAuroc([f32(4, 2, values)], [mask]);
  const b = pixelAuroc([{ width: 4, height: 2, data: new Float64Array(values) }], [mask]);
  assert.equal(a, b);
  // By hand: defects {0.25, 3, -0, 0.5}, normals {-1, 0.25, 0, 7}: 0.25 → 1 + ½ + 1 = 2.5; 3 → 3;
  // -0 → 1 (> -1) + ½ (= 0) = 1.5; 0.5 → 3. Total 10 / 16.
  assert.equal(a, 10 / 16);
});

Deno.test("vtadlCodePro is pixel AUROC under the name VT-ADL's code prints", () => {
  assert.equal(vtadlCodePro, pixelAuroc);
});

Deno.test("pixel AUROC without both classes is an error", () => {
  assert.throws(() => pixelAuroc([f32(2, 1, [1, 2])], [m8(2, 1, [0, 0])]), /no mask has a defect pixel/);
  assert.throws(() => pixelAuroc([f32(2, 1, [1, 2])], [m8(2, 1, [1, 1])]), /every pixel is a defect pixel/);
});

Deno.test("non-finite scores and size mismatches name the image", () => {
  assert.throws(
    () => pixelAuroc([f32(2, 1, [1, 2]), f32(2, 1, [NaN, 0])], [m8(2, 1, [1, 0]), m8(2, 1, [0, 0])]),
    /anomaly map 1: score at pixel 0 \(row 0, column 0\) is NaN/,
  );
  assert.throws(
    () => pixelAuroc([f32(2, 1, [1, 2])], [m8(1, 2, [1, 0])]),
    /anomaly map 0 is 2×1.*mask is 1×2/,
  );
});
