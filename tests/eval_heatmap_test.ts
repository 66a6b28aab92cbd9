import assert from "node:assert/strict";
import {
  gaussianFilter2d,
  gaussianKernel1d,
  patchHeatmap,
  reflectIndex,
  resizeBilinearAlignCorners,
} from "../src/eval/heatmap.ts";

/** Deterministic pseudo-random values (LCG), so fixtures are generated, not stored. */
function randomValues(n: number, seed: number): Float64Array {
  const out = new Float64Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = s / 2 ** 32;
  }
  return out;
}

/** Direct 2-D correlation with the un-separated Gaussian, reflecting indices by the textbook rule. */
function directGaussian2d(data: Float64Array, w: number, h: number, sigma: number): Float64Array {
  const r = Math.floor(4 * sigma + 0.5);
  const reflect = (i: number, n: number): number => {
    // unfold the half-sample symmetric extension step by step: ... d c b a | a b c d | d c b a ...
    while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
    return i;
  };
  let norm = 0;
  for (let dy = -r; dy <= r; dy++) {
    for (let dx = -r; dx <= r; dx++) norm += Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma));
  }
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let acc = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const g = Math.exp(-(dx * dx + dy * dy) / (2 * sigma * sigma)) / norm;
          acc += g * data[reflect(y + dy, h) * w + reflect(x + dx, w)];
        }
      }
      out[y * w + x] = acc;
    }
  }
  return out;
}

function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < actual.length; i++) {
    assert.ok(Math.abs(actual[i] - expected[i]) <= tol, `index ${i}: ${actual[i]} vs ${expected[i]}`);
  }
}

Deno.test("gaussian kernel has scipy's radius floor(4σ+0.5) and sums to 1", () => {
  for (const [sigma, radius] of [[4, 16], [1, 4], [0.6, 2], [1.5, 6]]) {
    const k = gaussianKernel1d(sigma);
    assert.equal(k.length, 2 * radius + 1);
    assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-12);
    assert.ok(Math.abs(k[radius + 1] / k[radius] - Math.exp(-1 / (2 * sigma * sigma))) < 1e-12);
  }
});

Deno.test("reflect index is half-sample symmetric and periodic with 2n", () => {
  // n = 4: indices -5..8 → b c? d c b a | a b c d | d c b a ...
  const got = [-5, -4, -3, -2, -1, 0, 3, 4, 5, 7, 8, 11].map((i) => reflectIndex(i, 4));
  assert.deepEqual(got, [3, 3, 2, 1, 0, 0, 3, 3, 2, 0, 0, 3]);
  assert.equal(reflectIndex(-7, 1), 0);
});

Deno.test("gaussian filter equals a direct 2-D reflect convolution (kernel wider than the image)", () => {
  const w = 11, h = 7;
  const data = randomValues(w * h, 7);
  assertClose(gaussianFilter2d(data, w, h, 4), directGaussian2d(data, w, h, 4), 1e-12);
  assertClose(gaussianFilter2d(data, w, h, 1.3), directGaussian2d(data, w, h, 1.3), 1e-12);
});

Deno.test("gaussian filter keeps a constant image constant and sigma 0 is the identity", () => {
  const flat = new Float64Array(30 * 20).fill(2.5);
  assertClose(gaussianFilter2d(flat, 30, 20, 4), flat, 1e-12);
  const data = randomValues(12, 3);
  assert.deepEqual(gaussianFilter2d(data, 4, 3, 0), data);
});

Deno.test("align-corners bilinear keeps corners and interpolates linearly in between", () => {
  // 2×2 → 3×4: x step 1/3, y step 1/2
  const out = resizeBilinearAlignCorners(Float64Array.of(0, 3, 6, 9), 2, 2, 4, 3);
  const expected = [0, 1, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9];
  assertClose(out, expected, 1e-12);
});

Deno.test("align-corners bilinear from an 8×8 grid matches the formula at every pixel", () => {
  const grid = randomValues(64, 11);
  const size = 29;
  const out = resizeBilinearAlignCorners(grid, 8, 8, size, size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const sy = (y * 7) / (size - 1), sx = (x * 7) / (size - 1);
      const y0 = Math.min(Math.floor(sy), 6), x0 = Math.min(Math.floor(sx), 6);
      const fy = sy - y0, fx = sx - x0;
      const v = (1 - fy) * ((1 - fx) * grid[y0 * 8 + x0] + fx * grid[y0 * 8 + x0 + 1]) +
        fy * ((1 - fx) * grid[(y0 + 1) * 8 + x0] + fx * grid[(y0 + 1) * 8 + x0 + 1]);
      assert.ok(Math.abs(out[y * size + x] - v) < 1e-12, `(${y}, ${x})`);
    }
  }
  assert.equal(out[size - 1], grid[7]); // patch 7 is the top-right corner
});

Deno.test("patch heatmap = upsample then σ=4 filter, returned as float32", () => {
  const grid = randomValues(16, 5).map((v) => v * 1000);
  const map = patchHeatmap(grid, 4, 24, 24);
  assert.ok(map instanceof Float32Array);
  const expected = directGaussian2d(resizeBilinearAlignCorners(grid, 4, 4, 24, 24), 24, 24, 4);
  assertClose(map, Float32Array.from(expected), 1e-3);
  const unfiltered = patchHeatmap(grid, 4, 24, 24, { sigma: 0 });
  assert.equal(unfiltered[0], Math.fround(grid[0]));
});

Deno.test("patch heatmap rejects a score count that is not a square grid", () => {
  assert.throws(() => patchHeatmap(new Float32Array(10), 3, 8, 8), /10 patch scores .* 3×3 grid/);
});
