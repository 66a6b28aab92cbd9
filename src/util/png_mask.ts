/**
 * Ground-truth masks straight from PNG bytes: which pixels hold a non-zero colour. The zlib stream is
 * inflated by the runtime's native zlib (`node:zlib`); only the row filters are undone here. The pure-JS
 * inflate of a PNG library took 12–14 ms per 1024² mask, this path about 1 ms, which is a large share of
 * `evaluate` on a category of many masks.
 *
 * It covers the PNGs masks are written as (8- or 16-bit grey, grey + alpha, RGB, RGBA, and 8-bit
 * palette, not interlaced) and returns null for any other PNG, which the caller then gives to a full
 * PNG library. Chunk CRCs are checked, as a PNG library does. The result is compared with fast-png's
 * decoding on every colour type, depth and row filter in `tests/png_mask_test.ts`.
 *
 * @module
 */
import { crc32, inflateSync } from "node:zlib";
import { concatBytes } from "./bytes.ts";

/** A decoded mask: 1 where any colour channel is non-zero (alpha ignored), else 0. */
export interface PngMask {
  width: number;
  height: number;
  data: Uint8Array;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Samples per pixel by PNG colour type (0 grey, 2 RGB, 3 palette, 4 grey + alpha, 6 RGBA). */
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 };

/** Header fields of a PNG this module decodes. */
interface Header {
  width: number;
  height: number;
  depth: 8 | 16;
  colourType: number;
  channels: number;
}

/**
 * Decodes `bytes` as a mask PNG, or returns null when the file is not a PNG this fast path covers
 * (interlaced, fewer than 8 bits per sample, an unknown colour type). Throws, naming `name`, on a PNG
 * it covers that is damaged (bad CRC, truncated data, unknown row filter, palette index out of range).
 *
 * @example
 * ```ts
 * const mask = decodePngMask(await Deno.readFile("000_mask.png"), "000_mask.png");
 * if (mask !== null) console.log(mask.width, mask.height, mask.data.reduce((a, b) => a + b, 0));
 * ```
 */
export function decodePngMask(bytes: Uint8Array, name: string): PngMask | null {
  if (bytes.length < 8 || SIGNATURE.some((b, i) => bytes[i] !== b)) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let header: Header | null = null;
  let palette: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let at = 8;
  while (true) {
    if (at + 12 > bytes.length) throw damaged(name, "it ends before its IEND chunk");
    const length = view.getUint32(at);
    const end = at + 8 + length;
    if (end + 4 > bytes.length) throw damaged(name, "a chunk runs past the end of the file");
    const type = String.fromCharCode(bytes[at + 4], bytes[at + 5], bytes[at + 6], bytes[at + 7]);
    if (crc32(bytes.subarray(at + 4, end)) !== view.getUint32(end)) {
      throw damaged(name, `the CRC of its ${type} chunk does not match`);
    }
    const data = bytes.subarray(at + 8, end);
    at = end + 4;
    if (type === "IHDR") {
      header = readHeader(data);
      if (header === null) return null;
    } else if (type === "PLTE") palette = data;
    else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
  }
  if (header === null) throw damaged(name, "it has no IHDR chunk");
  if (header.colourType === 3 && palette === null) throw damaged(name, "it is a palette PNG without PLTE");
  const rows = unfilter(inflate(idat, name), header, name);
  return { width: header.width, height: header.height, data: nonZero(rows, header, palette, name) };
}

/** The IHDR fields, or null when this path does not cover the image. */
function readHeader(data: Uint8Array): Header | null {
  if (data.length !== 13) return null;
  const view = new DataView(data.buffer, data.byteOffset, 13);
  const width = view.getUint32(0), height = view.getUint32(4);
  const depth = data[8], colourType = data[9], interlace = data[12];
  const channels = CHANNELS[colourType];
  const depthCovered = depth === 8 || (depth === 16 && colourType !== 3);
  if (channels === undefined || !depthCovered || interlace !== 0 || width === 0 || height === 0) return null;
  return { width, height, depth: depth as 8 | 16, colourType, channels };
}

function inflate(parts: Uint8Array[], name: string): Uint8Array {
  const stream = parts.length === 1 ? parts[0] : concatBytes(parts);
  try {
    const out = inflateSync(stream);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (error) {
    throw damaged(
      name,
      `its image data does not inflate (${error instanceof Error ? error.message : error})`,
    );
  }
}

/**
 * Undoes the PNG row filters in place (None, Sub, Up, Average, Paeth; PNG spec §9) and returns the
 * filtered buffer, whose row y starts at `y * (rowBytes + 1) + 1`.
 */
function unfilter(raw: Uint8Array, h: Header, name: string): Uint8Array {
  const bpp = h.channels * (h.depth / 8);
  const rowBytes = h.width * bpp, stride = rowBytes + 1;
  if (raw.length < stride * h.height) {
    throw damaged(name, `its image data holds ${raw.length} bytes, fewer than ${stride * h.height}`);
  }
  for (let y = 0; y < h.height; y++) {
    const row = y * stride + 1, up = row - stride; // `up` is only read for y > 0
    const filter = raw[row - 1];
    if (filter === 0) continue;
    if (filter === 1) {
      for (let i = bpp; i < rowBytes; i++) raw[row + i] = (raw[row + i] + raw[row + i - bpp]) & 0xff;
    } else if (filter === 2) {
      if (y > 0) { for (let i = 0; i < rowBytes; i++) raw[row + i] = (raw[row + i] + raw[up + i]) & 0xff; }
    } else if (filter === 3) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? raw[row + i - bpp] : 0, b = y > 0 ? raw[up + i] : 0;
        raw[row + i] = (raw[row + i] + ((a + b) >> 1)) & 0xff;
      }
    } else if (filter === 4) {
      for (let i = 0; i < rowBytes; i++) {
        const a = i >= bpp ? raw[row + i - bpp] : 0, b = y > 0 ? raw[up + i] : 0;
        const c = i >= bpp && y > 0 ? raw[up + i - bpp] : 0;
        raw[row + i] = (raw[row + i] + paeth(a, b, c)) & 0xff;
      }
    } else throw damaged(name, `row ${y} has the unknown filter type ${filter}`);
  }
  return raw;
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a), pb = Math.abs(p - b), pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** 1 where a pixel's colour samples (alpha excluded; palette entries for colour type 3) are not all 0. */
function nonZero(rows: Uint8Array, h: Header, palette: Uint8Array | null, name: string): Uint8Array {
  const { width, height, channels } = h;
  const sampleBytes = h.depth / 8, pixelBytes = channels * sampleBytes, stride = width * pixelBytes + 1;
  const mask = new Uint8Array(width * height);
  if (h.colourType === 3) {
    const colours = Math.floor(palette!.length / 3);
    const lit = new Uint8Array(256);
    for (let i = 0; i < colours; i++) {
      lit[i] = palette![3 * i] | palette![3 * i + 1] | palette![3 * i + 2] ? 1 : 0;
    }
    for (let y = 0; y < height; y++) {
      const row = y * stride + 1;
      for (let x = 0; x < width; x++) {
        const index = rows[row + x];
        if (index >= colours) {
          throw damaged(name, `pixel (${x}, ${y}) names palette entry ${index} of ${colours}`);
        }
        mask[y * width + x] = lit[index];
      }
    }
    return mask;
  }
  // Colour bytes of a pixel: every sample but the last for grey + alpha and RGBA.
  const colourBytes = (channels === 2 || channels === 4 ? channels - 1 : channels) * sampleBytes;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    for (let x = 0, p = row; x < width; x++, p += pixelBytes) {
      let any = 0;
      for (let k = 0; k < colourBytes; k++) any |= rows[p + k];
      mask[y * width + x] = any === 0 ? 0 : 1;
    }
  }
  return mask;
}

function damaged(name: string, why: string): Error {
  return new Error(`${name}: cannot decode mask PNG: ${why}; re-save it as a plain 8-bit PNG`);
}
