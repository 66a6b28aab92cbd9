import assert from "node:assert/strict";
import { crc32, deflateSync } from "node:zlib";
import { convertIndexedToRgb, decode as decodeWithFastPng } from "fast-png";
import { decodePngMask } from "../src/util/png_mask.ts";
import { concatBytes } from "../src/util/bytes.ts";

/**
 * A PNG written byte by byte, so that each row can carry a chosen filter type (0–4, cycling) and the
 * image data can be split over several IDAT chunks: encoders pick filters themselves, this exercises
 * every one of them on every layout.
 */
function writePng(
  { width, height, depth, colourType, samples, palette, interlace = 0, idatParts = 1 }: {
    width: number;
    height: number;
    depth: number;
    colourType: number;
    /** Unfiltered bytes, row after row (16-bit samples big-endian). */
    samples: Uint8Array;
    palette?: Uint8Array;
    interlace?: number;
    idatParts?: number;
  },
): Uint8Array {
  const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType]!;
  const bpp = Math.max(1, (channels * depth) / 8), rowBytes = Math.ceil((width * channels * depth) / 8);
  const filtered = new Uint8Array(height * (rowBytes + 1));
  for (let y = 0; y < height; y++) {
    const filter = y % 5, out = y * (rowBytes + 1);
    filtered[out] = filter;
    for (let i = 0; i < rowBytes; i++) {
      const x = samples[y * rowBytes + i];
      const a = i >= bpp ? samples[y * rowBytes + i - bpp] : 0;
      const b = y > 0 ? samples[(y - 1) * rowBytes + i] : 0;
      const c = i >= bpp && y > 0 ? samples[(y - 1) * rowBytes + i - bpp] : 0;
      const predictor = [0, a, b, (a + b) >> 1, paeth(a, b, c)][filter];
      filtered[out + 1 + i] = (x - predictor) & 0xff;
    }
  }
  const header = new Uint8Array(13);
  new DataView(header.buffer).setUint32(0, width);
  new DataView(header.buffer).setUint32(4, height);
  header.set([depth, colourType, 0, 0, interlace], 8);
  const stream = new Uint8Array(deflateSync(filtered));
  const step = Math.ceil(stream.length / idatParts);
  const chunks = [chunk("IHDR", header)];
  if (palette) chunks.push(chunk("PLTE", palette));
  for (let at = 0; at < stream.length; at += step) chunks.push(chunk("IDAT", stream.subarray(at, at + step)));
  chunks.push(chunk("IEND", new Uint8Array(0)));
  return concatBytes([Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a), ...chunks]);
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}

/** The mask rule applied to fast-png's decoding: any non-zero colour sample (alpha ignored). */
function referenceMask(bytes: Uint8Array): number[] {
  const png = decodeWithFastPng(bytes);
  let values: ArrayLike<number> = png.data, channels = png.channels;
  if (png.palette) {
    values = convertIndexedToRgb(png);
    channels = png.palette[0].length;
  }
  const colours = channels === 2 || channels === 4 ? channels - 1 : channels;
  return Array.from({ length: png.width * png.height }, (_, p) => {
    for (let c = 0; c < colours; c++) if (values[p * channels + c] !== 0) return 1;
    return 0;
  });
}

/** Sparse pseudo-random bytes (many zeros, so pixels are both zero and non-zero), deterministic. */
function sparseBytes(n: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  return Uint8Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s >>> 24 < 150 ? 0 : (s >>> 8) & 0xff;
  });
}

Deno.test("PNG masks: every colour type, depth and row filter decodes as fast-png decodes it", () => {
  const width = 41, height = 25; // each filter type on five rows
  const layouts = [[0, 8], [0, 16], [2, 8], [2, 16], [3, 8], [4, 8], [4, 16], [6, 8], [6, 16]];
  for (const [colourType, depth] of layouts) {
    const channels = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }[colourType]!;
    let samples = sparseBytes(width * height * channels * (depth / 8), colourType * 31 + depth);
    let palette: Uint8Array | undefined;
    if (colourType === 3) {
      palette = Uint8Array.from({ length: 6 * 3 }, (_, i) => (i < 6 ? 0 : i * 7)); // entries 0, 1 black
      samples = samples.map((v) => v % 6);
    }
    for (const idatParts of [1, 3]) {
      const bytes = writePng({ width, height, depth, colourType, samples, palette, idatParts });
      const mask = decodePngMask(bytes, "m.png");
      assert.ok(mask !== null, `colour type ${colourType}, ${depth}-bit`);
      assert.deepEqual([mask.width, mask.height], [width, height]);
      const expected = referenceMask(bytes);
      assert.deepEqual(Array.from(mask.data), expected, `colour type ${colourType}, ${depth}-bit`);
      assert.ok(expected.includes(0) && expected.includes(1), "the fixture holds both kinds of pixel");
    }
  }
});

Deno.test("PNG masks: a 16-bit sample of 1 and an alpha-only pixel are told apart", () => {
  // Grey + alpha, 16-bit: (grey 1, alpha 0) is a defect, (grey 0, alpha 65535) is not.
  const samples = Uint8Array.of(0, 1, 0, 0, 0, 0, 0xff, 0xff);
  const mask = decodePngMask(writePng({ width: 2, height: 1, depth: 16, colourType: 4, samples }), "m.png");
  assert.deepEqual(Array.from(mask!.data), [1, 0]);
});

Deno.test("PNG masks: interlaced, sub-byte and non-PNG files are left to the full decoders", () => {
  const samples = new Uint8Array(4);
  assert.equal(
    decodePngMask(writePng({ width: 2, height: 2, depth: 8, colourType: 0, samples, interlace: 1 }), "m"),
    null,
  );
  assert.equal(decodePngMask(writePng({ width: 8, height: 1, depth: 1, colourType: 0, samples }), "m"), null);
  assert.equal(decodePngMask(new TextEncoder().encode("BM not a png at all"), "m"), null);
});

Deno.test("PNG masks: a damaged file is an error naming it and saying what is wrong", () => {
  const good = writePng({ width: 4, height: 3, depth: 8, colourType: 0, samples: sparseBytes(12, 5) });
  const badCrc = good.slice();
  badCrc[good.length - 20] ^= 0xff; // inside the IDAT chunk
  assert.throws(() => decodePngMask(badCrc, "a.png"), /a\.png: cannot decode mask PNG: the CRC of its IDAT/);
  assert.throws(() => decodePngMask(good.slice(0, good.length - 15), "b.png"), /b\.png: .*past the end/);
  const palette = Uint8Array.of(0, 0, 0, 255, 0, 0);
  const outOfRange = writePng({
    width: 2,
    height: 1,
    depth: 8,
    colourType: 3,
    samples: Uint8Array.of(1, 4),
    palette,
  });
  assert.throws(() => decodePngMask(outOfRange, "c.png"), /c\.png: .*palette entry 4 of 2/);
  const shortData = writePng({ width: 4, height: 3, depth: 8, colourType: 0, samples: new Uint8Array(12) });
  const header = shortData.subarray(16, 20); // IHDR width → 40: the data no longer covers the rows
  header[3] = 40;
  new DataView(shortData.buffer).setUint32(29, crc32(shortData.subarray(12, 29)));
  assert.throws(() => decodePngMask(shortData, "d.png"), /d\.png: .*fewer than/);
});
