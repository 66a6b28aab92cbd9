import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import {
  composePanel,
  formatValue,
  jet,
  mapRange,
  panelTitle,
  writeHeatmapPanels,
} from "../src/eval/panels.ts";
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
  const zoom = Math.floor(256 / SIZE);
  const { data, info } = await sharp(await Deno.readFile(join(dir, files[0]))).raw()
    .toBuffer({ resolveWithObject: true });
  assert.equal(info.width, 3 * SIZE * zoom);
  assert.equal(info.height, 22 + SIZE * zoom + 34, "title line + tiles + colour bar band");
  // The colour bar under the overlay runs from jet(0) (dark blue) to jet(1) (dark red).
  const y = 22 + SIZE * zoom + 4 + 6, tile = SIZE * zoom;
  const c = info.channels;
  const at = (x: number) => Array.from(data.subarray((y * info.width + x) * c, (y * info.width + x) * c + 3));
  assert.deepEqual(at(2 * tile + 4), jet(0));
  assert.deepEqual(at(3 * tile - 5), jet(1));
  // The title line holds text (dark pixels); the band under the input tile is white but for its label.
  let dark = 0;
  for (let i = 0; i < 22 * info.width; i++) if (data[i * c] < 100) dark++;
  assert.ok(dark > 50, `title drawn (${dark} dark pixels)`);
});

Deno.test("panel titles name the image, its score and its rank; the range is the category's", () => {
  assert.equal(
    panelTitle({ kind: "best", path: "disc/test/scratch/003.png", score: 12.3456, rank: 1, of: 8 }),
    "disc/test/scratch/003.png — score 12.35, rank 1 of 8 anomalous (best)",
  );
  assert.equal(formatValue(0.000123456), "1.235e-4");
  const maps = [Float32Array.of(1, 5), Float32Array.of(-2, 3)].map((data) => ({ width: 2, height: 1, data }));
  assert.deepEqual(mapRange(maps), { lo: -2, hi: 5 });
});

Deno.test("small images are enlarged smoothly (bilinear), masks stay exact (nearest)", () => {
  const sample = makeSample(10, 1, "alpha");
  const map = {
    width: SIZE,
    height: SIZE,
    data: Float32Array.from({ length: SIZE * SIZE }, (_, i) => i % SIZE),
  };
  const zoom = 8;
  const { width, rgb } = composePanel(sample, map, 0, SIZE - 1, zoom);
  const row = 100; // inside the image
  const overlay = (x: number) => rgb[(row * width + 2 * SIZE * zoom + x) * 3 + 2];
  // Along a row the map rises by 1 per source pixel: bilinear output changes within one zoom block.
  const block = Array.from({ length: zoom }, (_, k) => overlay(8 * zoom + k));
  assert.ok(new Set(block).size > 1, `smooth: ${block}`);
  // The mask tile holds only 0 and 255.
  const maskTile = new Set<number>();
  for (let y = 0; y < SIZE * zoom; y++) {
    for (let x = 0; x < SIZE * zoom; x++) maskTile.add(rgb[(y * width + SIZE * zoom + x) * 3]);
  }
  assert.deepEqual([...maskTile].sort((a, b) => a - b), [0, 255]);
});
