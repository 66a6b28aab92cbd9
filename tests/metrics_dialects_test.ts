import assert from "node:assert/strict";
import {
  auPro,
  auProAder,
  auProAnomalibLegacy,
  auProCflow,
  dialectByKey,
  f1MaxImage,
  f1MaxPixel,
  f1MaxPixelAder,
  mapMaxScore,
  type MaskMap,
  METRIC_DIALECTS,
  pooledMapMaxScore,
  rocAuc,
  sameDialect,
  type ScoreMap,
} from "../src/metrics/mod.ts";

const row = (...v: number[]): ScoreMap => ({ width: v.length, height: 1, data: Float64Array.from(v) });
const mask = (...v: number[]): MaskMap => ({ width: v.length, height: 1, data: Uint8Array.from(v) });

Deno.test("image score: ADer's 16×16-average maximum and the plain maximum rank a hot pixel and a blob oppositely", () => {
  // A: one pixel at 10 in a 4×4 map; B: a 2×2 blob at 3. With 2×2 windows A's best mean is 10/4 = 2.5, B's 3.
  const a: ScoreMap = { width: 4, height: 4, data: new Float64Array(16) };
  a.data[5] = 10;
  const b: ScoreMap = { width: 4, height: 4, data: new Float64Array(16) };
  for (const p of [9, 10, 13, 14]) b.data[p] = 3;
  assert.equal(mapMaxScore(a), 10);
  assert.equal(mapMaxScore(b), 3);
  assert.equal(pooledMapMaxScore(a, { kernel: 2 }), 2.5);
  assert.equal(pooledMapMaxScore(b, { kernel: 2 }), 3);
  // So with A normal and B anomalous, image AUROC is 0 under one score and 1 under the other.
  assert.equal(rocAuc([mapMaxScore(a), mapMaxScore(b)], [0, 1]), 0);
  assert.equal(rocAuc([pooledMapMaxScore(a, { kernel: 2 }), pooledMapMaxScore(b, { kernel: 2 })], [0, 1]), 1);
  // 3×3, 2×2 windows: means 0.25, 0.25, 1, 1.25.
  assert.equal(
    pooledMapMaxScore({ width: 3, height: 3, data: Float64Array.of(0, 0, 0, 0, 1, 0, 0, 3, 1) }, {
      kernel: 2,
    }),
    1.25,
  );
  assert.throws(() => pooledMapMaxScore(a), /a 16×16 window does not fit a 4×4 map/);
});

Deno.test("F1-max: image and pixel over every threshold, by hand", () => {
  // Scores 0.8 (anomalous), 0.4 (normal), 0.35 (anomalous), 0.1 (normal): F1 at t = 0.8, 0.4, 0.35, 0.1 is
  // 2/3, 1/2, 4/5, 2/3.
  assert.deepEqual(f1MaxImage([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), { f1: 0.8, threshold: 0.35 });
  // Tied scores form one threshold: {1: one anomalous, one normal}, {0: normal} → F1 2/3 then 1/2.
  assert.equal(f1MaxImage([1, 1, 0], [1, 0, 0]).f1, 2 / 3);
  // Pixels 0.9 (defect), 0.5 (ok), 0.1 (defect): 2/3, 1/2, 4/5.
  assert.equal(f1MaxPixel([row(0.9, 0.5, 0.1)], [mask(1, 0, 1)]), 0.8);
  assert.equal(
    f1MaxPixel([{ ...row(0.9, 0.5, 0.1), data: Float32Array.of(0.9, 0.5, 0.1) }], [mask(1, 0, 1)]),
    0.8,
  );
});

Deno.test("F1-max: ADer's 21-threshold pixel version misses a threshold that falls inside a 0.05 step", () => {
  // Scores 0, 0.51 (ok), 0.52 (defect), 1 (defect) are already in [0, 1]. Every threshold: t = 0.52 separates
  // perfectly (F1 = 1). ADer tries t = 0.50 (3 predicted, 2 hit: F1 0.8) and t = 0.55 (1 predicted: 2/3).
  const maps = [row(0, 0.51, 0.52, 1)], masks = [mask(0, 0, 1, 1)];
  assert.equal(f1MaxPixel(maps, masks), 1);
  const ader = f1MaxPixelAder(maps, masks);
  const p = 2 / (3 + 1e-8), r = 2 / (2 + 1e-8);
  assert.equal(ader, (2 * p * r) / (p + r + 1e-8));
  assert.ok(Math.abs(ader - 0.8) < 1e-8);
});

// One row of six pixels, scores 0..5; defects at pixel 2 (region A) and pixels 4-5 (region B); OK pixels
// 0, 1, 3 (N_ok = 3). Positive means score > t.
const sixMaps = () => [row(0, 1, 2, 3, 4, 5)];
const sixMasks = () => [mask(0, 0, 1, 0, 1, 1)];

Deno.test("AU-PRO, ADer: arange thresholds, FPR < limit kept and rescaled, sklearn auc — by hand", () => {
  // steps 5: δ = 1, thresholds 0, 1, 2, 3, 4. (FPR, PRO) = (2/3, 1), (1/3, 1), (1/3, 1/2), (0, 1/2), (0, 1/4).
  // Limit 0.5 keeps the last four; FPR rescaled 1, 1, 0, 0; the only trapezoid with width spans FPR 1 → 0 at
  // PRO 1/2: area 1/2.
  const r = auProAder(sixMaps(), sixMasks(), { steps: 5, integrationLimit: 0.5 });
  assert.equal(r.auPro, 0.5);
  assert.deepEqual([r.thresholds, r.pointsKept, r.nRegions, r.nOkPixels], [5, 4, 2, 3]);
  // Limit 0.3 keeps only FPR 0 points: the rescaling divides by zero and the reference returns NaN.
  const degenerate = auProAder(sixMaps(), sixMasks(), { steps: 5 });
  assert.ok(Number.isNaN(degenerate.auPro));
  assert.match(degenerate.warnings.join(" "), /same FPR: the rescaling divides by zero/);
});

Deno.test("AU-PRO, cflow: thresholds from the maximum down, FPR ≤ limit kept and rescaled — by hand", () => {
  // steps 5: thresholds 5, 4, 3, 2, 1. (FPR, PRO) = (0, 0), (0, 1/4), (0, 1/2), (1/3, 1/2), (1/3, 1).
  // Rescaled FPR 0, 0, 0, 1, 1: one trapezoid from (0, 1/2) to (1, 1/2) of area 1/2.
  const r = auProCflow(sixMaps(), sixMasks(), { steps: 5, integrationLimit: 0.5 });
  assert.equal(r.auPro, 0.5);
  assert.equal(r.pointsKept, 5);
  // The official algorithm on the same data: (0, 1/4), (0, 1/2), (1/3, 1/2), (1/3, 1), then interpolated to
  // FPR 0.5 at PRO 1: area 1/3·1/2 + (1/2 − 1/3)·1 = 1/3, divided by 0.5 → 2/3 (FPR rounded to float32).
  assert.ok(Math.abs(auPro(sixMaps(), sixMasks(), { integrationLimit: 0.5 }).auPro - 2 / 3) < 1e-7);
});

Deno.test("AU-PRO, cflow: a ring-shaped defect's hole counts towards its overlap (can exceed 100 %)", () => {
  // 5×5 image: a 3×3 ring of defect pixels (score 5) around an OK centre (score 10), OK border (score 1).
  const data = new Float64Array(25).fill(1), m = new Uint8Array(25);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) (m[y * 5 + x] = 1, data[y * 5 + x] = 5);
  m[12] = 0;
  data[12] = 10;
  // steps 3: thresholds 10, 7, 4. t = 10: nothing; t = 7: the centre (FPR 1/17, overlap 1/8 through the
  // filled hole); t = 4: centre + ring (FPR 1/17, overlap 9/8). Rescaled FPR 0, 1, 1: area (0 + 1/8)/2.
  const r = auProCflow([{ width: 5, height: 5, data }], [{ width: 5, height: 5, data: m }], { steps: 3 });
  assert.equal(r.auPro, 0.0625);
  assert.equal(r.nOkPixels, 17);
});

Deno.test("AU-PRO, anomalib ≤ 2.2: a perfect detector scores 0.5 when the global curve has two points below the limit", () => {
  // Scores 0.1, 0.2, 0.3 (OK) and 0.4 (one defect region). The global ROC has FPR 0, 0, 1/3, 2/3, 1: two
  // points ≤ 0.3, so every region curve is resampled to 2 points. The region's own curve has no point in
  // (0, 0.3], so its limit widens to 1/3; resampled it reads (FPR 0, TPR 0) and (≈1/3, 1). Area 1/6 divided by
  // the last FPR 1/3 gives 0.5 (the PyTorch reference gives 0.5 too). The official AU-PRO is 1.
  const maps = [row(0.1, 0.2, 0.3, 0.4)], masks = [mask(0, 0, 0, 1)];
  const r = auProAnomalibLegacy(maps, masks);
  assert.equal(r.auPro, 0.5);
  assert.equal(r.curvePoints, 2);
  assert.ok(Math.abs(r.lastFpr - 1 / 3) < 1e-6);
  assert.equal(r.sigmoid, false);
  assert.equal(auPro(maps, masks).auPro, 1);
});

Deno.test("AU-PRO, anomalib ≤ 2.2: scores outside [0, 1] go through a float32 sigmoid and saturate", () => {
  const masks = [mask(0, 0, 0, 1)];
  assert.equal(auProAnomalibLegacy([row(-3, -2, -1, 0.5)], masks).sigmoid, true);
  // Scores 0..40: every score above ~17 becomes 1.0 in float32 and ties; the reference returns NaN.
  const saturated = auProAnomalibLegacy([row(20, 30, 35, 40)], masks);
  assert.ok(Number.isNaN(saturated.auPro));
});

Deno.test("dialects: every entry has a unique key, a label, a source, and computes on a small case", () => {
  const keys = METRIC_DIALECTS.map((d) => d.key);
  assert.equal(new Set(keys).size, keys.length);
  const maps: ScoreMap[] = [
    { width: 4, height: 4, data: new Float64Array(16).map((_, i) => (i * 7) % 5) },
    { width: 4, height: 4, data: new Float64Array(16).map((_, i) => ((i * 3) % 7) + (i === 5 ? 9 : 0)) },
  ];
  const masks: MaskMap[] = [
    { width: 4, height: 4, data: new Uint8Array(16) },
    { width: 4, height: 4, data: new Uint8Array(16).map((_, i) => (i === 5 || i === 6 ? 1 : 0)) },
  ];
  for (const d of METRIC_DIALECTS) {
    assert.ok(d.label.length > 0 && d.source.length > 0, d.key);
    assert.ok(d.key.startsWith(d.key.split("/")[0]) && d.key.includes("/"), d.key);
    assert.equal(d.official, d.differs === "", `${d.key}: official dialects state no difference`);
    let value: number;
    if (d.kind === "image-score") {
      value = d.compute({ width: 16, height: 16, data: new Float64Array(256).fill(2) });
      assert.equal(value, 2, d.key);
    } else if (d.kind === "image-metric") value = d.compute([0.2, 0.9, 0.4], [0, 1, 0]);
    else value = d.compute(maps, masks);
    assert.equal(typeof value, "number", d.key);
  }
  for (const family of new Set(METRIC_DIALECTS.map((d) => d.family))) {
    assert.equal(METRIC_DIALECTS.filter((d) => d.family === family && d.official).length, 1, family);
  }
  assert.equal(dialectByKey("au-pro@0.3/official").family, "AU-PRO@0.3");
  assert.ok(sameDialect("au-pro@0.3/ader-200", "au-pro@0.3/ader-200"));
  assert.ok(!sameDialect("au-pro@0.3/official", "au-pro@0.3/ader-200"));
  assert.throws(
    () => dialectByKey("au-pro@0.3/mine"),
    /unknown metric dialect 'au-pro@0\.3\/mine'; known: image-score\/max/,
  );
});
