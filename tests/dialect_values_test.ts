import assert from "node:assert/strict";
import { join } from "node:path";
import { DIALECT_VARIANTS, METRIC_DIALECT_NAMES, selectDialectVariants } from "../src/core/metrics.ts";
import { UsageError } from "../src/core/errors.ts";
import {
  dialectValueEntries,
  evaluateMaps,
  metricSetEntries,
  metricSetJson,
} from "../src/eval/metric_set.ts";
import { defectBreakdown, wholeCategory } from "../src/eval/breakdown.ts";
import { computeMetrics } from "../src/cli/metrics.ts";
import { evaluateTree, renderTable } from "../src/cli/evaluate.ts";
import { renderBreakdownText, renderDialectText } from "../src/cli/evaluate_extras.ts";
import {
  auPro,
  auProAder,
  auProAnomalibLegacy,
  auProCflow,
  dialectByKey,
  f1MaxImage,
  type MaskMap,
  pooledMapMaxScore,
  rocAuc,
  type ScoreMap,
} from "../src/metrics/mod.ts";
import { DialectValueSchema } from "../src/runs/record.ts";
import { main } from "../main.ts";
import { type FixtureImage, writeMvtecTree } from "./helpers/fixtures.ts";

/** Deterministic pseudo-random floats. */
function floats(seed: number, n: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  });
}

/** Six 20×20 maps: two normal, two with a square defect, two with a line; defects raised by 0.3. */
function pixelCase(): { maps: ScoreMap[]; masks: MaskMap[]; labels: number[]; types: string[] } {
  const side = 20, maps: ScoreMap[] = [], masks: MaskMap[] = [], labels: number[] = [], types: string[] = [];
  for (let i = 0; i < 6; i++) {
    const mask = new Uint8Array(side * side);
    const type = i < 2 ? "good" : i < 4 ? "square" : "line";
    if (type === "square") {
      for (let y = 4; y < 9; y++) for (let x = 5; x < 10; x++) mask[y * side + x] = 1;
    }
    if (type === "line") { for (let x = 2; x < 18; x++) mask[(10 + i) * side + x] = 1; }
    const data = floats(i + 1, side * side).map((v, p) => (mask[p] ? v + 0.3 : v));
    maps.push({ width: side, height: side, data });
    masks.push({ width: side, height: side, data: mask });
    labels.push(type === "good" ? 0 : 1);
    types.push(type);
  }
  return { maps, masks, labels, types };
}

Deno.test("dialects: every variant names a known dialect and engine, and the selection accepts names, keys and all", () => {
  for (const v of DIALECT_VARIANTS) {
    assert.ok((METRIC_DIALECT_NAMES as readonly string[]).includes(v.dialect), v.key);
    const engine = dialectByKey(v.engine);
    assert.equal(engine.official, v.dialect === "official" || v.imageScore !== undefined, v.key);
    if (v.imageScore) assert.equal(dialectByKey(v.imageScore).official, v.dialect === "official", v.key);
  }
  assert.equal(selectDialectVariants(["all"]).length, DIALECT_VARIANTS.length);
  assert.deepEqual(selectDialectVariants([]), []);
  assert.deepEqual(
    selectDialectVariants(["au-pro/ader-200", "anomalib-legacy"]).map((v) => v.key),
    ["au-pro/ader-200", "au-pro/anomalib-legacy"],
  );
  assert.deepEqual(selectDialectVariants(["official"]).map((v) => v.key), [
    "image-auroc/map-max",
    "f1-max/image",
    "f1-max/pixel",
  ]);
  assert.throws(() => selectDialectVariants(["ader-300"]), UsageError);
});

Deno.test("evaluateMaps: no dialects by default; asked-for variants equal the engine functions and name their dialect", () => {
  const { maps, masks, labels } = pixelCase();
  const scores = maps.map((m) => Math.max(...m.data));
  const input = { image: { scores, labels }, pixel: { maps, masks } };
  const plain = evaluateMaps(input);
  assert.deepEqual(plain.dialectValues, []);
  assert.equal(metricSetJson(plain).dialect, "official");
  assert.equal("dialect_values" in metricSetJson(plain), false);
  assert.ok(
    metricSetEntries(plain, { imageScore: "max", anomalyMap: "error" }).every((e) =>
      e.dialect === "official"
    ),
  );

  const set = evaluateMaps(input, { dialects: selectDialectVariants(["all"]) });
  // The official numbers do not change when dialects are added.
  assert.deepEqual(set.values, plain.values);
  const value = (key: string) => set.dialectValues.find((d) => d.variant.key === key)?.value;
  assert.equal(value("au-pro/ader-200"), auProAder(maps, masks, { steps: 200 }).auPro);
  assert.equal(value("au-pro/ader-100"), auProAder(maps, masks, { steps: 100 }).auPro);
  assert.equal(value("au-pro/cflow-1000"), auProCflow(maps, masks, { steps: 1000 }).auPro);
  assert.equal(value("au-pro/anomalib-legacy"), auProAnomalibLegacy(maps, masks).auPro);
  assert.equal(value("f1-max/image"), f1MaxImage(scores, labels).f1);
  assert.equal(value("image-auroc/map-max"), rocAuc(scores, labels));
  assert.equal(
    value("image-auroc/ader-avgpool16"),
    rocAuc(maps.map((m) => pooledMapMaxScore(m, { kernel: 16 })), labels),
  );
  // The sampled AU-PROs differ from the official one on this case: the point of naming dialects.
  assert.notEqual(value("au-pro/ader-200"), auPro(maps, masks).auPro);

  const json = metricSetJson(set, { dialects: true });
  assert.equal(json.dialect_values!.length, DIALECT_VARIANTS.length);
  const legacy = json.dialect_values!.find((d) => d.variant === "au-pro/anomalib-legacy")!;
  assert.equal(legacy.metric, "au_pro");
  assert.equal(legacy.dialect, "anomalib-legacy");
  assert.equal(legacy.definition, "AU-PRO@0.3");

  const entries = dialectValueEntries(set, { imageScore: "code", anomalyMap: "patchNll" });
  for (const e of entries) DialectValueSchema.parse(e);
  assert.equal(entries.find((e) => e.variant === "f1-max/image")!.scoredBy, "code");
  assert.equal(entries.find((e) => e.variant === "au-pro/ader-200")!.scoredBy, "patchNll");
  assert.equal(
    entries.find((e) => e.variant === "image-auroc/ader-avgpool16")!.scoredBy,
    "image-score/ader-avgpool16-max of patchNll",
  );
});

Deno.test("evaluateMaps: a variant the input cannot support is left out with a warning", () => {
  const tiny = { width: 2, height: 1, data: Float64Array.of(0.9, 0.1) };
  const set = evaluateMaps(
    { pixel: { maps: [tiny], masks: [{ width: 2, height: 1, data: Uint8Array.of(1, 0) }] } },
    { integrationLimit: 0.2, dialects: selectDialectVariants(["all"]) },
  );
  const keys = set.dialectValues.map((d) => d.variant.key);
  assert.deepEqual(keys, ["f1-max/pixel", "f1-max/pixel-ader-21"]);
  assert.ok(set.warnings.some((w) => /image-auroc\/ader-avgpool16 not computed: .*16×16 window/.test(w)));
  assert.ok(set.warnings.some((w) => /au-pro\/ader-200 not computed: .*0\.3 only \(limit is 0\.2\)/.test(w)));
  assert.ok(set.warnings.some((w) => /f1-max\/image not computed: the input has no image scores/.test(w)));
});

Deno.test("metrics command: --dialects adds dialect_values; an unknown name is a usage error", async () => {
  const input = {
    scores: [0.1, 0.4, 0.35, 0.8],
    labels: [0, 0, 1, 1],
    maps: [[[0.9, 0.1], [0.2, 0.3]]],
    masks: [[[255, 0], [0, 0]]],
  };
  const out = computeMetrics(input, { dialects: ["f1-max/image"] });
  assert.deepEqual(out.dialect_values!.map((d) => [d.variant, d.dialect, d.value]), [
    ["f1-max/image", "official", 0.8],
  ]);
  assert.equal(computeMetrics(input).dialect_values, undefined);
  const dir = await Deno.makeTempDir();
  const [log, error] = [console.log, console.error];
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(file, JSON.stringify(input));
    console.error = () => {};
    console.log = () => {};
    assert.equal(await main(["metrics", file, "--dialects", "nope"]), 2);
  } finally {
    [console.log, console.error] = [log, error];
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("breakdown: each defect type against the good images, by hand", () => {
  const { maps, masks, labels, types } = pixelCase();
  const scores = [0.2, 0.5, 0.9, 0.8, 0.1, 0.6];
  const b = defectBreakdown({ defectTypes: types, labels, scores, maps, masks })!;
  assert.deepEqual(b.rows.map((r) => r.defectType), ["line", "square"]);
  const [line, square] = b.rows;
  // square: 0.9, 0.8 above both goods → 1; line: 0.1 < both, 0.6 > both → 2 of 4 pairs.
  assert.equal(square.imageAuroc, 1);
  assert.equal(line.imageAuroc, 0.5);
  assert.equal(square.nAnomalous, 2);
  assert.equal(square.nNormal, 2);
  assert.equal(square.nRegions, 2);
  const pick = (idx: number[]) => auPro(idx.map((i) => maps[i]), idx.map((i) => masks[i])).auPro;
  assert.equal(square.auPro, pick([0, 1, 2, 3]));
  assert.equal(line.auPro, pick([0, 1, 4, 5]));
  // Without maps, only the image column.
  const imageOnly = defectBreakdown({ defectTypes: types, labels, scores })!;
  assert.equal(imageOnly.rows[0].auPro, null);
  assert.equal(imageOnly.rows[0].nRegions, null);
  assert.equal(defectBreakdown({ defectTypes: ["good"], labels: [0], scores: [1] }), null);
  assert.throws(() => defectBreakdown({ defectTypes: ["a"], labels: [1, 0], scores: [1, 0] }), /one of each/);
});

Deno.test("breakdown: a category with one defect type reuses the category's numbers, which equal a fresh computation", () => {
  const { maps, masks, labels, types } = pixelCase();
  const oneType = types.map((t) => (t === "good" ? t : "any"));
  const scores = [0.2, 0.5, 0.9, 0.8, 0.1, 0.6];
  const set = evaluateMaps({ image: { scores, labels }, pixel: { maps, masks } });
  const whole = wholeCategory(set)!;
  const fresh = defectBreakdown({ defectTypes: oneType, labels, scores, maps, masks })!;
  const reused = defectBreakdown({ defectTypes: oneType, labels, scores, maps, masks, whole })!;
  assert.deepEqual(reused, fresh);
  assert.deepEqual([fresh.rows[0].auPro, fresh.rows[0].imageAuroc], [
    set.values.auPro,
    set.values.imageAuroc,
  ]);
  // The reuse is taken (a marker value comes through) only when the row covers every image.
  const marker = { imageAuroc: 0.123, auPro: 0.456, nRegions: 7 };
  const marked = defectBreakdown({ defectTypes: oneType, labels, scores, maps, masks, whole: marker })!;
  assert.deepEqual([marked.rows[0].imageAuroc, marked.rows[0].auPro, marked.rows[0].nRegions], [
    0.123,
    0.456,
    7,
  ]);
  const twoTypes = defectBreakdown({ defectTypes: types, labels, scores, maps, masks, whole: marker })!;
  assert.ok(twoTypes.rows.every((r) => r.imageAuroc !== 0.123 && r.auPro !== 0.456));
  // A degenerate category AU-PRO (no region) is null in the row, as a computed row has it.
  const blank = masks.map((m) => ({ ...m, data: new Uint8Array(m.data.length) }));
  const degenerate = evaluateMaps({ image: { scores, labels }, pixel: { maps, masks: blank } });
  assert.equal(wholeCategory(degenerate)!.auPro, null);
});

const W = 20, H = 16;
function treeImages(): FixtureImage[] {
  const crack = new Uint8Array(W * H);
  for (let x = 3; x < 12; x++) crack[5 * W + x] = 1;
  const hole = new Uint8Array(W * H);
  for (let y = 8; y < 12; y++) for (let x = 10; x < 14; x++) hole[y * W + x] = 1;
  const raise = (map: Float32Array, mask: Uint8Array, by: number) =>
    map.map((v, i) => (mask[i] ? v + by : v));
  return [
    { defect: "good", stem: "000", map: floats(1, W * H) },
    { defect: "good", stem: "001", map: floats(2, W * H) },
    { defect: "crack", stem: "000", map: raise(floats(3, W * H), crack, 0.6), mask: crack },
    { defect: "hole", stem: "000", map: raise(floats(4, W * H), hole, 0.05), mask: hole },
  ];
}

Deno.test("evaluate: per-defect breakdown and --dialects in the report and the printed text; --no-breakdown skips it", async () => {
  const root = await Deno.makeTempDir({ prefix: "vtadl-eval-dialects-" });
  try {
    const { gt, maps } = await writeMvtecTree(root, "widget", W, H, treeImages());
    const report = await evaluateTree({ mapsDir: maps, gtDir: gt, dialects: ["ader-200", "ader-avgpool16"] });
    const r = report.categories.widget;
    assert.equal(r.dialect, "official");
    assert.deepEqual(r.dialect_values!.map((d) => d.variant), [
      "image-auroc/ader-avgpool16",
      "au-pro/ader-200",
    ]);
    assert.deepEqual(r.breakdown!.rows.map((x) => [x.defectType, x.nAnomalous, x.nNormal]), [
      ["crack", 1, 2],
      ["hole", 1, 2],
    ]);
    // The official numbers are the same as without the extras.
    const plain = await evaluateTree({ mapsDir: maps, gtDir: gt, breakdown: false });
    assert.equal(plain.categories.widget.breakdown, undefined);
    assert.equal(plain.categories.widget.dialect_values, undefined);
    assert.equal(plain.categories.widget.au_pro, r.au_pro);
    assert.equal(plain.categories.widget.auroc, r.auroc);
    assert.equal(renderDialectText(plain), "");
    assert.equal(renderBreakdownText(plain), "");
    const text = renderTable(report) + renderDialectText(report) + renderBreakdownText(report);
    assert.match(text, /au-pro\/ader-200 \[ader-200\]/);
    // One category: its mean is its value.
    const ader = r.dialect_values!.find((d) => d.variant === "au-pro/ader-200")!.value;
    assert.equal(report.mean_dialect_values!["au-pro/ader-200"], ader);
    assert.equal(plain.mean_dialect_values, undefined);
    assert.match(text, new RegExp(`\\nmean\\s+\\S+\\s+${ader.toFixed(4)}`));
    assert.match(text, /widget\/crack\s+1\s+2\s+1\s/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluateMaps: a variant whose reference returns NaN (anomalib ≤ 2.2 on saturated scores) is left out, never recorded", () => {
  // Scores far above 1 saturate anomalib's float32 sigmoid: its averaged curve degenerates to NaN.
  const map = { width: 4, height: 1, data: Float64Array.of(60, 50, 55, 52) };
  const mask = { width: 4, height: 1, data: Uint8Array.of(1, 0, 0, 0) };
  const set = evaluateMaps({ pixel: { maps: [map], masks: [mask] } }, {
    dialects: selectDialectVariants(["anomalib-legacy", "f1-max/pixel"]),
  });
  assert.deepEqual(set.dialectValues.map((d) => d.variant.key), ["f1-max/pixel"]);
  assert.ok(
    set.warnings.some((w) => /au-pro\/anomalib-legacy not computed: its implementation returned NaN/.test(w)),
  );
  for (const e of dialectValueEntries(set, { imageScore: "nll", anomalyMap: "patchNll" })) {
    DialectValueSchema.parse(e);
  }
});
