import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import sharp from "sharp";
import { parseIdx } from "../src/datasets/idx.ts";
import { decodeBmp, decodeImage, ImageDecodeError } from "../src/datasets/image_decode.ts";
import { bmpBytes, idxBytes } from "./_fixtures.ts";

Deno.test("IDX: header, dims and data are parsed; wrong magic, length or dims are errors naming the file", () => {
  const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
  const parsed = parseIdx(idxBytes(0x803, [2, 3, 4], data), "imgs", { magic: 2051, dims: [2, 3, 4] });
  assert.deepEqual(parsed.dims, [2, 3, 4]);
  assert.equal(parsed.magic, 2051);
  assert.deepEqual(parsed.data, data);
  assert.throws(
    () => parseIdx(idxBytes(0x0d03, [2, 3, 4], data), "imgs"),
    /imgs: magic 0x00000d03 is not an uint8/,
  );
  assert.throws(() => parseIdx(Uint8Array.from([0x1f, 0x8b, 8, 0, 0, 0]), "gz"), /gz: magic.*still gzip/);
  assert.throws(
    () => parseIdx(idxBytes(0x803, [2, 3, 4], data.slice(1)), "short"),
    /short: 23 data bytes.*need 24/,
  );
  assert.throws(
    () => parseIdx(idxBytes(0x801, [24], data), "labels", { magic: 2049, dims: [10] }),
    /labels: magic 2049 dims 24, expected magic 2049 dims 10/,
  );
});

Deno.test("BMP: 24-bit bottom-up rows with padding decode to RGB top to bottom", () => {
  // 3×2: row padding of 3 bytes per row.
  const rgb = [255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30, 40, 50, 60, 70, 80, 90];
  const image = decodeBmp(bmpBytes(3, 2, rgb), "x.bmp");
  assert.equal(image.width, 3);
  assert.equal(image.height, 2);
  assert.equal(image.channels, 3);
  assert.deepEqual(Array.from(image.data), rgb);
});

Deno.test("BMP: 8-bit palette images decode through the palette", () => {
  const palette = [[0, 0, 0], [255, 255, 255], [200, 100, 50], [1, 2, 3]];
  const image = decodeBmp(bmpBytes(3, 2, [0, 1, 2, 3, 2, 1], palette), "p.bmp");
  assert.deepEqual(Array.from(image.data), [
    0,
    0,
    0,
    255,
    255,
    255,
    200,
    100,
    50,
    1,
    2,
    3,
    200,
    100,
    50,
    255,
    255,
    255,
  ]);
});

Deno.test("BMP: a truncated or non-BMP file is an error naming the file", () => {
  const full = bmpBytes(3, 2, new Array(18).fill(7));
  assert.throws(
    () => decodeBmp(full.slice(0, full.length - 5), "cut.bmp"),
    /cannot decode image cut\.bmp: truncated/,
  );
  assert.throws(() => decodeBmp(new Uint8Array(40), "zero.bmp"), /zero\.bmp: not a BMP/);
});

Deno.test("PNG (grey and RGB), TIFF and BMP files decode from disk; a truncated PNG names the file", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-formats-" });
  try {
    const rgb = Uint8Array.from({ length: 4 * 4 * 3 }, (_, i) => (i * 13) % 256);
    const grey = Uint8Array.from({ length: 4 * 4 }, (_, i) => i * 16);
    await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).png().toFile(join(dir, "rgb.png"));
    await Deno.writeFile(
      join(dir, "grey.png"),
      encodePng({ width: 4, height: 4, data: grey, channels: 1, depth: 8 }),
    );
    await sharp(rgb, { raw: { width: 4, height: 4, channels: 3 } }).tiff({ compression: "lzw" }).toFile(
      join(dir, "rgb.tif"),
    );
    await Deno.writeFile(join(dir, "rgb.bmp"), bmpBytes(4, 4, Array.from(rgb)));
    for (const name of ["rgb.png", "rgb.tif", "rgb.bmp"]) {
      const image = await decodeImage(join(dir, name));
      assert.equal(image.channels, 3, name);
      assert.deepEqual(image.data, rgb, name);
    }
    const g = await decodeImage(join(dir, "grey.png"));
    // sharp hands grey back as sRGB with equal channels; either way every channel holds the grey value.
    for (let i = 0; i < grey.length; i++) {
      for (let c = 0; c < g.channels; c++) assert.equal(g.data[i * g.channels + c], grey[i]);
    }
    const big = Uint8Array.from({ length: 64 * 64 * 3 }, (_, i) => (i * 7919) % 251);
    const png = await sharp(big, { raw: { width: 64, height: 64, channels: 3 } }).png().toBuffer();
    await Deno.writeFile(join(dir, "cut.png"), png.subarray(0, Math.floor(png.length / 2)));
    await assert.rejects(
      decodeImage(join(dir, "cut.png")),
      (e: Error) => e instanceof ImageDecodeError && e.message.includes(join(dir, "cut.png")),
    );
    const corrupt = new Uint8Array(png);
    for (let i = Math.floor(png.length / 2); i < Math.floor(png.length / 2) + 64; i++) corrupt[i] ^= 0x5a;
    await Deno.writeFile(join(dir, "corrupt.png"), corrupt);
    await assert.rejects(
      decodeImage(join(dir, "corrupt.png")),
      (e: Error) => e instanceof ImageDecodeError && e.message.includes(join(dir, "corrupt.png")),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
