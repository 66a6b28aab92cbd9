import assert from "node:assert/strict";
import {
  centerCropOffset,
  preprocessImage,
  preprocessMask,
  pythonRound,
  toRgb,
} from "../src/datasets/preprocess.ts";
import type { RawImage } from "../src/datasets/image_decode.ts";

function checkerboard(size: number): RawImage {
  const data = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) data[y * size + x] = (x + y) % 2 ? 255 : 0;
  return { width: size, height: size, channels: 1, data };
}

Deno.test("centre crop offset follows torchvision: int(round((size - crop) / 2)) with half to even", () => {
  assert.equal(centerCropOffset(550, 512), 19);
  assert.equal(pythonRound(0.5), 0);
  assert.equal(pythonRound(1.5), 2);
  assert.equal(pythonRound(2.5), 2);
  assert.equal(pythonRound(2.6), 3);
  assert.equal(centerCropOffset(10, 5), 2); // round(2.5) = 2
  assert.equal(centerCropOffset(12, 5), 4); // round(3.5) = 4
});

Deno.test("resize is antialiased: a 1-px checkerboard shrunk 4× becomes mid grey", async () => {
  const out = await preprocessImage(checkerboard(64), 16, 16);
  assert.equal(out.length, 16 * 16 * 3);
  for (const v of out) assert.ok(v > 100 && v < 155, `value ${v} is not mid grey (aliasing?)`);
});

Deno.test("crop keeps the centre window of the resized image and grey is replicated to 3 channels", async () => {
  const size = 10;
  const data = Uint8Array.from({ length: size * size }, (_, i) => i);
  const out = await preprocessImage({ width: size, height: size, channels: 1, data }, 10, 6);
  assert.equal(out.length, 6 * 6 * 3);
  // offset 2: output (0,0) is input (2,2) = 22; (5,5) is (7,7) = 77
  assert.deepEqual(Array.from(out.subarray(0, 3)), [22, 22, 22]);
  assert.deepEqual(Array.from(out.subarray((5 * 6 + 5) * 3, (5 * 6 + 5) * 3 + 3)), [77, 77, 77]);
  assert.deepEqual(
    Array.from(toRgb({ width: 1, height: 1, channels: 4, data: Uint8Array.from([1, 2, 3, 4]) })),
    [1, 2, 3],
  );
  await assert.rejects(
    preprocessImage({ width: 4, height: 4, channels: 1, data: new Uint8Array(16) }, 4, 8),
    /crop 8/,
  );
});

Deno.test("masks: bilinear then > 0 widens a defect, nearest keeps it binary and small", async () => {
  const size = 40;
  const data = new Uint8Array(size * size);
  for (let y = 18; y < 22; y++) for (let x = 18; x < 22; x++) data[y * size + x] = 255;
  const mask = { width: size, height: size, channels: 1 as const, data };
  const bilinear = await preprocessMask(mask, 20, 20, "bilinearAnyPositive");
  const nearest = await preprocessMask(mask, 20, 20, "nearest");
  const count = (m: Uint8Array) => m.reduce((a, b) => a + b, 0);
  assert.ok(bilinear.every((v) => v === 0 || v === 1));
  assert.ok(nearest.every((v) => v === 0 || v === 1));
  assert.ok(count(nearest) >= 1 && count(nearest) <= 9, `nearest ${count(nearest)}`);
  assert.ok(count(bilinear) > count(nearest), `bilinear ${count(bilinear)} vs nearest ${count(nearest)}`);
  assert.equal(bilinear[0], 0);
  assert.equal(bilinear[10 * 20 + 10], 1);
});
