import assert from "node:assert/strict";
import { join } from "node:path";
import { centerCropOffset, loadOriginalMasks, mapToOriginal } from "../src/eval/original_resolution.ts";
import { runReproduce } from "../src/pipeline/runner.ts";
import { fakeDeps, makeSample, SIZE } from "./fakes/pipeline_fakes.ts";

Deno.test("centre-crop offset is torchvision's round((R − C)/2), half to even", () => {
  assert.equal(centerCropOffset(550, 512), 19);
  assert.equal(centerCropOffset(5, 2), 2); // 1.5 → 2
  assert.equal(centerCropOffset(7, 2), 2); // 2.5 → 2
  assert.equal(centerCropOffset(34, 32), 1);
});

Deno.test("mapping back without resize or crop is the identity", () => {
  const data = Float32Array.from({ length: 12 }, (_, i) => i * 1.5);
  const back = mapToOriginal(
    { width: 3, height: 3, data: data.subarray(0, 9) },
    { resize: 3, crop: 3 },
    3,
    3,
  );
  assert.deepEqual(Array.from(back.data), Array.from(data.subarray(0, 9)));
});

Deno.test("mapping back to twice the size interpolates at half-pixel centres", () => {
  // one row [0, 4]: original x = 0..3 sits at u = (x + ½)/2 − ½ = −¼, ¼, ¾, 1¼ → clamped to [0, 1]
  const back = mapToOriginal(
    { width: 2, height: 2, data: Float32Array.of(0, 4, 0, 4) },
    { resize: 2, crop: 2 },
    4,
    4,
  );
  assert.deepEqual(Array.from(back.data.subarray(0, 4)), [0, 1, 3, 4]);
});

Deno.test("pixels cut off by the crop take the nearest border value of the map", () => {
  // resize 6, crop 4 (offset 1): original x = 0..5 → crop u = x − 1 → clamp to [0, 3]
  const row = Float32Array.of(10, 20, 30, 40);
  const map = { width: 4, height: 4, data: Float32Array.from({ length: 16 }, (_, i) => row[i % 4]) };
  const back = mapToOriginal(map, { resize: 6, crop: 4 }, 6, 6);
  assert.deepEqual(Array.from(back.data.subarray(0, 6)), [10, 10, 20, 30, 40, 40]);
});

Deno.test("original masks: read from the sample's mask file, binarised > 0 ignoring alpha, zero for normal images", async () => {
  const root = await Deno.makeTempDir();
  const bad = makeSample(10, 1, "alpha");
  const good = makeSample(0, 0, "alpha");
  const maskPath = join(root, bad.maskPath!);
  assert.equal(maskPath, join(root, "alpha", "ground_truth", "bad", "010_mask.png"));
  const decode = (path: string) =>
    Promise.resolve(
      path === maskPath
        ? { width: 2, height: 1, channels: 2, data: Uint8Array.of(0, 255, 7, 255) }
        : { width: 5, height: 3, channels: 3, data: new Uint8Array(45) },
    );
  const masks = await loadOriginalMasks(root, [good, bad], decode);
  assert.deepEqual(masks[0], { width: 5, height: 3, data: new Uint8Array(15) });
  assert.deepEqual(masks[1], { width: 2, height: 1, data: Uint8Array.of(0, 1) });
  await assert.rejects(
    () => loadOriginalMasks(root, [{ ...bad, maskPath: null }], decode),
    /original mask for alpha\/test\/bad\/010\.png unknown/,
  );
});

Deno.test("the pipeline evaluates pixels against original-size masks when asked", async () => {
  const out = await Deno.makeTempDir();
  const { deps } = fakeDeps({ categories: ["alpha"] });
  const root = join(out, "data", "synthetic"); // where the fake ensureDataset says the tree is
  const originals = new Map<string, Uint8Array>();
  for (let i = 10; i < 15; i++) {
    const sample = makeSample(i, 1, "alpha");
    const path = join(root, sample.maskPath!);
    const big = new Uint8Array(4 * SIZE * SIZE); // the original is twice the preprocessed size
    for (let y = 0; y < 2 * SIZE; y++) {
      for (let x = 0; x < 2 * SIZE; x++) {
        big[y * 2 * SIZE + x] = sample.mask![(y >> 1) * SIZE + (x >> 1)] * 255;
      }
    }
    originals.set(path, big);
  }
  deps.decodeImage = (path: string) =>
    Promise.resolve({
      width: 2 * SIZE,
      height: 2 * SIZE,
      channels: 1,
      data: originals.get(path) ?? new Uint8Array(4 * SIZE * SIZE),
    });
  const result = await runReproduce({
    dataset: "synthetic",
    models: ["vtadl"],
    configName: "smoke",
    seeds: [0],
    backend: "cpu",
    dataDir: join(out, "data"),
    outDir: out,
    evalResolution: "original",
    panels: 1,
    log: () => {},
  }, deps);
  const record = result.outcomes[0].record;
  assert.equal(record.status, "completed", record.error?.message ?? "");
  assert.equal(record.evaluation.resolution, "original");
  const pixel = record.metrics.find((m) => m.key === "pixelAuroc")!;
  assert.equal(pixel.details?.resolution, `${2 * SIZE}×${2 * SIZE} (original)`);
  assert.ok(pixel.value > 0.8, `pixel AUROC ${pixel.value}`);
  assert.ok(record.artifacts.length > 0, "panels still drawn at the preprocessed size");
});
