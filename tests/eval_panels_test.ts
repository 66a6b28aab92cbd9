import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { composePanel, jet, writeHeatmapPanels } from "../src/eval/panels.ts";
import { makeSample, SIZE } from "./fakes/pipeline_fakes.ts";

Deno.test("jet runs from dark blue through green to dark red", () => {
  assert.deepEqual(jet(0), [0, 0, 128]);
  assert.deepEqual(jet(0.5), [128, 255, 128]);
  assert.deepEqual(jet(1), [128, 0, 0]);
});

Deno.test("a panel is input | mask | 50 % overlay, side by side", () => {
  const sample = makeSample(10, 1, "alpha");
  const map = { width: SIZE, height: SIZE, data: new Float32Array(SIZE * SIZE).fill(1) };
  const { width, height, rgb } = composePanel(sample, map, 0, 1);
  assert.equal(width, 3 * SIZE);
  assert.equal(height, SIZE);
  const maskIndex = sample.mask!.indexOf(1);
  const px = (tile: number, i: number) => {
    const y = Math.floor(i / SIZE), x = i % SIZE;
    const o = (y * width + tile * SIZE + x) * 3;
    return Array.from(rgb.subarray(o, o + 3));
  };
  assert.deepEqual(px(0, maskIndex), Array.from(sample.pixels.subarray(maskIndex * 3, maskIndex * 3 + 3)));
  assert.deepEqual(px(1, maskIndex), [255, 255, 255]);
  assert.deepEqual(px(1, 0), [0, 0, 0]);
  const p = sample.pixels[0];
  assert.deepEqual(
    px(2, 0),
    [(p + 128) >> 1, p >> 1, p >> 1],
    "map value 1 → jet(1) = dark red, blended 50 %",
  );
});

Deno.test("panels are PNGs of the best- and worst-scored anomalous images, named after them", async () => {
  const dir = await Deno.makeTempDir();
  const test = [
    makeSample(0, 0, "alpha"),
    makeSample(10, 1, "alpha"),
    makeSample(11, 1, "alpha"),
    makeSample(12, 1, "alpha"),
  ];
  const scores = [9, 0.5, 0.9, 0.1]; // the normal image's high score must not be picked
  const maps = test.map((_, i) => ({
    width: SIZE,
    height: SIZE,
    data: new Float32Array(SIZE * SIZE).fill(i),
  }));
  const files = await writeHeatmapPanels(dir, test, scores, maps, 1);
  assert.deepEqual(files, ["panels/best-1_bad_011.png", "panels/worst-1_bad_012.png"]);
  const meta = await sharp(await Deno.readFile(join(dir, files[0]))).metadata();
  assert.equal(meta.format, "png");
  assert.equal(meta.width, 3 * SIZE * Math.floor(256 / SIZE));
});
