/**
 * Files that `evaluate` reads: anomaly maps (float TIFF as the official MVTec AD evaluation reads them,
 * or NumPy `.npy`), ground-truth masks (PNG, any non-zero value = defect), and the MVTec-style tree that
 * pairs them (`evaluate_experiment.py` layout: `<category>/test/<defect>/<stem>.png` lists the test
 * images, `<category>/ground_truth/<defect>/<stem>_mask.png` their masks, `good` images have none; maps at
 * `<maps>/<category>/test/<defect>/<stem>.tiff`).
 *
 * @module
 */
import { convertIndexedToRgb, decode as decodePng, hasPngSignature } from "fast-png";
import { decode as decodeTiff } from "tiff";
import { join } from "node:path";
import { folderConventions } from "../core/datasets.ts";
import type { MaskMap, ScoreMap } from "../metrics/mod.ts";
import { pathExists } from "../util/fs.ts";
import { parseNpyArray } from "../util/npy.ts";
import { decodePngMask } from "../util/png_mask.ts";
import { adviseHugePages } from "../util/huge_pages.ts";

/** Extensions accepted for anomaly maps, in lookup order. */
export const MAP_EXTENSIONS = [".tiff", ".tif", ".npy"];
const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];
/** The ground-truth conventions of the datasets in the registry (MVTec `good`, BTAD `ok`, …). */
const GROUND_TRUTH = folderConventions();

/**
 * Parses a NumPy `.npy` file holding a 2-D float32 or float64 array in C order (the shared reader of
 * `src/util/npy.ts`, plus the one-map-per-image check).
 *
 * @example
 * ```ts
 * const map = parseNpy(await Deno.readFile("000.npy"), "000.npy"); // { width, height, data }
 * ```
 */
export function parseNpy(bytes: Uint8Array, name: string): ScoreMap {
  const { shape, data } = parseNpyArray(bytes, name);
  if (shape.length !== 2 || shape.some((d) => d < 1)) {
    throw new Error(`${name}: shape (${shape.join(", ")}) is not 2-D; expected one H×W map per image`);
  }
  const [height, width] = shape;
  return { width, height, data };
}

const CONVERT = "write each map as one uncompressed float32 TIFF, e.g. tifffile.imwrite(path, " +
  "map.astype(numpy.float32)), or as .npy";

/**
 * Reads a single-channel float32 or float64 TIFF map (any compression the `tiff` package decodes: none,
 * LZW, deflate), values untouched. libvips cannot read 64-bit float TIFFs, so maps are not read
 * through sharp. `bytes` may be a reused buffer: the returned map owns its data.
 */
export function readTiffMap(bytes: Uint8Array, name: string): ScoreMap {
  let pages;
  try {
    // The header first: uncompressed little-endian strips (what tifffile writes) are copied in bulk below;
    // the package converts sample by sample.
    pages = decodeTiff(bytes, { ignoreImageData: true });
  } catch (error) {
    throw cannotDecode(name, error);
  }
  if (pages.length !== 1) throw new Error(`${name}: TIFF has ${pages.length} pages; expected one 2-D map`);
  const [page] = pages;
  // A compression the package cannot decode is reported as such (its message), before the sample format.
  if (!DECODABLE_COMPRESSIONS.includes(page.compression)) decodeSamples(bytes, name);
  if (page.sampleFormat !== 3 || (page.bitsPerSample !== 32 && page.bitsPerSample !== 64)) {
    throw new Error(
      `${name}: TIFF samples are ${page.bitsPerSample}-bit ${
        page.sampleFormat === 3 ? "float" : page.sampleFormat === 2 ? "signed integer" : "unsigned integer"
      }; expected 32-bit float (as the official MVTec AD evaluation) or 64-bit float; ${CONVERT}`,
    );
  }
  if (page.samplesPerPixel !== 1) {
    throw new Error(`${name}: TIFF has ${page.samplesPerPixel} channels; expected 1 (one score per pixel)`);
  }
  const { width, height } = page;
  const data = copyPlainStrips(bytes, page) ?? decodeSamples(bytes, name);
  if (data.length !== width * height) {
    throw new Error(`${name}: decoded ${data.length} values for ${width}×${height}`);
  }
  return { width, height, data };
}

/** TIFF compressions the `tiff` package decodes: none, LZW, deflate (two codes). */
const DECODABLE_COMPRESSIONS = [1, 5, 8, 32946];

function cannotDecode(name: string, error: unknown): Error {
  return new Error(
    `${name}: cannot decode TIFF (${error instanceof Error ? error.message : error}); ${CONVERT}`,
  );
}

/** The header fields {@linkcode copyPlainStrips} needs (a `tiff` page read with `ignoreImageData`). */
interface TiffLayout {
  width: number;
  height: number;
  bitsPerSample: number;
  compression: number;
  predictor: number;
  orientation: number | undefined;
  tiled: boolean;
  stripOffsets: number[];
  stripByteCounts: number[];
}

/**
 * The samples of an uncompressed, little-endian, strip-organised float TIFF, copied straight from the
 * file bytes; null for any other layout (the `tiff` package then decodes it).
 */
function copyPlainStrips(bytes: Uint8Array, page: TiffLayout): Float32Array | Float64Array | null {
  if (!isPlainLayout(bytes, page)) return null;
  const { stripOffsets: offsets, stripByteCounts: counts } = page;
  const data = newSamples(page);
  const out = new Uint8Array(data.buffer);
  let at = 0;
  for (let s = 0; s < offsets.length && at < out.length; s++) {
    const take = Math.min(counts[s], out.length - at);
    if (offsets[s] + take > bytes.length) return null; // truncated: let the package report it
    out.set(bytes.subarray(offsets[s], offsets[s] + take), at);
    at += take;
  }
  return at === out.length ? data : null;
}

/** Uncompressed little-endian strips of samples in file order, which can be copied as they are. */
function isPlainLayout(head: Uint8Array, page: TiffLayout): boolean {
  const littleEndian = head[0] === 0x49 && head[1] === 0x49;
  return littleEndian && page.compression === 1 && page.predictor === 1 && !page.tiled &&
    (page.orientation === undefined || page.orientation === 1) && page.stripOffsets.length > 0 &&
    page.stripOffsets.length === page.stripByteCounts.length;
}

/** A zeroed sample array of the page's size and precision. */
function newSamples(page: TiffLayout): Float32Array | Float64Array {
  const n = page.width * page.height;
  return page.bitsPerSample === 32 ? new Float32Array(n) : new Float64Array(n);
}

/** Full decode through the `tiff` package (compressed or big-endian files). */
function decodeSamples(bytes: Uint8Array, name: string): Float32Array | Float64Array {
  try {
    // The package reads strips through the whole ArrayBuffer; a view into a larger (reused) buffer would
    // let a truncated file decode bytes past its end.
    const own = bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
    return decodeTiff(own)[0].data as Float32Array | Float64Array;
  } catch (error) {
    throw cannotDecode(name, error);
  }
}

/**
 * Reads anomaly maps and ground-truth masks. Maps are read straight into their own arrays, so
 * {@linkcode MapReader.map} may run several reads at once (`evaluate` keeps a few in flight, which the
 * runtime serves on other threads); masks go through one reused byte buffer, one at a time.
 *
 * @example
 * ```ts
 * const reader = new MapReader();
 * const map = await reader.map("maps/bottle/test/good/000.tiff");
 * const mask = await reader.mask("mvtec/bottle/ground_truth/broken_large/000_mask.png");
 * ```
 */
export class MapReader {
  #buffer = new Uint8Array(0);
  #slab = new SharedArrayBuffer(0);
  #slabUsed = 0;

  /**
   * A zeroed sample array for a map, carved from a 64 MiB slab shared with the maps read before it. One
   * big allocation per slab lets the kernel back it with huge pages: reading 100 maps of 1024² into
   * their own 4 MiB arrays took 0.78 s (57k page faults) here, into slabs 0.14 s (10k). Slabs are
   * SharedArrayBuffers, so a worker can read the maps without a copy. A slab lives as long as any of its
   * maps; maps bigger than a quarter slab get their own buffer.
   */
  #samples(page: TiffLayout): Float32Array | Float64Array {
    const bytesPerSample = page.bitsPerSample / 8, n = page.width * page.height;
    const bytes = Math.ceil((n * bytesPerSample) / 8) * 8; // keeps every map 8-byte aligned
    let buffer = this.#slab, at = this.#slabUsed;
    if (bytes > SLAB_BYTES / 4) {
      buffer = new SharedArrayBuffer(bytes);
      at = 0;
      adviseHugePages(buffer);
    } else {
      if (at + bytes > buffer.byteLength) {
        buffer = this.#slab = new SharedArrayBuffer(SLAB_BYTES);
        adviseHugePages(buffer);
        at = 0;
      }
      this.#slabUsed = at + bytes;
    }
    return bytesPerSample === 4 ? new Float32Array(buffer, at, n) : new Float64Array(buffer, at, n);
  }

  /** The file's bytes, valid until the next read. */
  async #read(path: string): Promise<Uint8Array> {
    using file = await Deno.open(path);
    const size = (await file.stat()).size;
    if (this.#buffer.length < size + 1) this.#buffer = new Uint8Array(Math.ceil((size + 1) * 1.25));
    let length = 0;
    while (true) {
      if (length === this.#buffer.length) {
        const grown = new Uint8Array(this.#buffer.length * 2);
        grown.set(this.#buffer);
        this.#buffer = grown;
      }
      const n = await file.read(this.#buffer.subarray(length));
      if (n === null) break;
      length += n;
    }
    return this.#buffer.subarray(0, length);
  }

  /** Reads an anomaly map by extension: `.tiff`/`.tif` or `.npy`. Safe to call concurrently. */
  async map(path: string): Promise<ScoreMap> {
    if (path.endsWith(".npy")) return parseNpy(await Deno.readFile(path), path);
    return await this.#plainTiff(path) ?? readTiffMap(await Deno.readFile(path), path);
  }

  /**
   * A single-channel float TIFF whose header fits the first 64 KiB and whose uncompressed little-endian
   * strips follow each other: its samples are read from the file straight into the map's array, with no
   * copy in between. Null for any other file (it is then read and checked by {@linkcode readTiffMap}).
   */
  async #plainTiff(path: string): Promise<ScoreMap | null> {
    using file = await Deno.open(path);
    const buffer = new Uint8Array(HEADER_BYTES); // its own, so that reads can overlap
    const head = buffer.subarray(0, await readFully(file, buffer));
    let pages;
    try {
      pages = decodeTiff(head, { ignoreImageData: true });
    } catch {
      return null; // not a TIFF, or its header lies past the first bytes
    }
    if (pages.length !== 1) return null;
    const [page] = pages;
    const { stripOffsets: offsets, stripByteCounts: counts } = page;
    if (
      page.sampleFormat !== 3 || (page.bitsPerSample !== 32 && page.bitsPerSample !== 64) ||
      page.samplesPerPixel !== 1 || !isPlainLayout(head, page)
    ) return null;
    const data = this.#samples(page);
    const out = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    let run = 0;
    for (let s = 0; s < offsets.length && run < out.length; s++) {
      if (offsets[s] !== offsets[0] + run) return null; // strips apart: copied one by one by readTiffMap
      run += counts[s];
    }
    if (run < out.length) return null;
    await file.seek(offsets[0], Deno.SeekMode.Start);
    if (await readFully(file, out) < out.length) return null; // truncated: readTiffMap reports it
    return { width: page.width, height: page.height, data };
  }

  /** Reads a ground-truth mask image (PNG etc.); a pixel is defect when any colour channel is non-zero. */
  async mask(path: string): Promise<MaskMap> {
    const bytes = await this.#read(path);
    return decodePngMask(bytes, path) ?? decodeMaskPng(bytes, path) ??
      await decodeMaskSharp(bytes.slice(), path);
  }
}

/** Size of the slabs {@linkcode MapReader} carves map arrays from. */
const SLAB_BYTES = 64 * 1024 * 1024;

/** Bytes of a map file read to find its TIFF header. */
const HEADER_BYTES = 65536;

/** Reads from `file` until `into` is full or the file ends; returns the bytes read. */
async function readFully(file: Deno.FsFile, into: Uint8Array): Promise<number> {
  let length = 0;
  while (length < into.length) {
    const n = await file.read(into.subarray(length));
    if (n === null) break;
    length += n;
  }
  return length;
}

/** Reads an anomaly map by extension: `.tiff`/`.tif` or `.npy`. */
export function readAnomalyMap(path: string): Promise<ScoreMap> {
  return new MapReader().map(path);
}

/** Reads a ground-truth mask image (PNG etc.); a pixel is defect when any colour channel is non-zero. */
export function readMask(path: string): Promise<MaskMap> {
  return new MapReader().mask(path);
}

/**
 * A PNG mask that {@linkcode decodePngMask} leaves aside (interlaced) decoded with fast-png, alpha
 * ignored, palette images through their colours; null for what it leaves to sharp (not a PNG, fewer
 * than 8 bits per sample).
 */
function decodeMaskPng(bytes: Uint8Array, path: string): MaskMap | null {
  if (!hasPngSignature(bytes)) return null;
  let png;
  try {
    png = decodePng(bytes);
  } catch (error) {
    throw new Error(`${path}: cannot decode mask (${error instanceof Error ? error.message : error})`);
  }
  if (png.depth < 8) return null;
  let values: ArrayLike<number> = png.data, channels = png.channels;
  if (png.palette) {
    values = convertIndexedToRgb(png);
    channels = png.palette[0]?.length ?? 3;
  }
  // Grey + alpha and RGBA: the last channel is alpha, which sharp's removeAlpha dropped too.
  const colours = channels === 2 || channels === 4 ? channels - 1 : channels;
  return { width: png.width, height: png.height, data: nonZeroPixels(values, channels, colours) };
}

/** Any other mask image, through sharp (16-bit kept at 16 bits so that small values stay non-zero). */
async function decodeMaskSharp(bytes: Uint8Array, path: string): Promise<MaskMap> {
  const { default: sharp } = await import("sharp"); // loaded only for masks that need it
  let decoded, wide = false;
  try {
    const meta = await sharp(bytes).metadata();
    wide = meta.depth === "ushort";
    decoded = await sharp(bytes).removeAlpha().raw({ depth: wide ? "ushort" : "uchar" })
      .toBuffer({ resolveWithObject: true });
  } catch (error) {
    throw new Error(`${path}: cannot decode mask (${error instanceof Error ? error.message : error})`);
  }
  const { data, info } = decoded;
  const values = wide
    ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  return {
    width: info.width,
    height: info.height,
    data: nonZeroPixels(values, info.channels, info.channels),
  };
}

/** 1 where any of the first `colours` of `channels` interleaved values is non-zero. */
function nonZeroPixels(values: ArrayLike<number>, channels: number, colours: number): Uint8Array {
  const n = Math.floor(values.length / channels);
  const mask = new Uint8Array(n);
  if (channels === 1) {
    for (let p = 0; p < n; p++) mask[p] = values[p] === 0 ? 0 : 1;
    return mask;
  }
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < colours; c++) {
      if (values[p * channels + c] !== 0) {
        mask[p] = 1;
        break;
      }
    }
  }
  return mask;
}

/** One test image of a category. */
export interface TestItem {
  /** `<category>/test/<defect>/<stem>`: the key in scores files and error messages. */
  key: string;
  /** Defect type folder (`good` for defect-free). */
  defect: string;
  /** Path of the ground-truth mask, or null for defect-free images. */
  maskPath: string | null;
  /** Path of the anomaly map (set by {@linkcode pairCategory}). */
  mapPath: string;
}

async function listDir(path: string): Promise<Deno.DirEntry[]> {
  const entries: Deno.DirEntry[] = [];
  for await (const e of Deno.readDir(path)) if (!e.name.startsWith(".")) entries.push(e);
  return entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function stemOf(name: string, extensions: string[]): string | null {
  const lower = name.toLowerCase();
  for (const ext of extensions) if (lower.endsWith(ext)) return name.slice(0, -ext.length);
  return null;
}

/** Formats a list of names for a one-line error, eliding after `max`. */
export function nameList(names: string[], max = 20): string {
  return names.length <= max
    ? names.join(", ")
    : `${names.slice(0, max).join(", ")} and ${names.length - max} more`;
}

/**
 * Lists the test images of `category` under the dataset root `gtDir` and pairs each with its mask and
 * its anomaly map under `mapsDir`. Missing masks, missing maps and extra maps are each reported in one
 * error that names every file.
 */
export async function pairCategory(mapsDir: string, gtDir: string, category: string): Promise<TestItem[]> {
  const testDir = join(gtDir, category, "test");
  if (!(await pathExists(testDir))) {
    throw new Error(
      `${testDir} not found: --gt must be the dataset root in MVTec layout (<category>/test/<defect>/NNN.png, <category>/ground_truth/<defect>/NNN_mask.png)`,
    );
  }
  const items: TestItem[] = [];
  const missingMasks: string[] = [];
  for (const defect of await listDir(testDir)) {
    if (!defect.isDirectory) continue;
    for (const file of await listDir(join(testDir, defect.name))) {
      const stem = file.isFile ? stemOf(file.name, IMAGE_EXTENSIONS) : null;
      if (stem === null) continue;
      const key = `${category}/test/${defect.name}/${stem}`;
      let maskPath: string | null = null;
      if (!GROUND_TRUTH.normalFolders.includes(defect.name)) {
        const candidates = GROUND_TRUTH.maskNames(stem)
          .map((n) => join(gtDir, category, "ground_truth", defect.name, n));
        for (const c of candidates) {
          if (await pathExists(c)) {
            maskPath = c;
            break;
          }
        }
        if (maskPath === null) missingMasks.push(candidates[0]);
      }
      items.push({ key, defect: defect.name, maskPath, mapPath: "" });
    }
  }
  if (missingMasks.length > 0) {
    throw new Error(
      `${category}: ${missingMasks.length} ground-truth mask(s) not found: ${nameList(missingMasks)}`,
    );
  }
  if (items.length === 0) throw new Error(`${testDir}: no test images found`);
  // Maps present under <maps>/<category>/test/<defect>/.
  const found = new Map<string, string>();
  const duplicates: string[] = [];
  const mapTestDir = join(mapsDir, category, "test");
  if (await pathExists(mapTestDir)) {
    for (const defect of await listDir(mapTestDir)) {
      if (!defect.isDirectory) continue;
      for (const file of await listDir(join(mapTestDir, defect.name))) {
        const stem = file.isFile ? stemOf(file.name, MAP_EXTENSIONS) : null;
        if (stem === null) continue;
        const key = `${category}/test/${defect.name}/${stem}`;
        if (found.has(key)) duplicates.push(key);
        found.set(key, join(mapTestDir, defect.name, file.name));
      }
    }
  }
  const expected = new Set(items.map((i) => i.key));
  const missing = items.filter((i) => !found.has(i.key)).map((i) => i.key);
  const extra = [...found.keys()].filter((k) => !expected.has(k));
  if (missing.length > 0 || extra.length > 0 || duplicates.length > 0) {
    const parts: string[] = [];
    if (missing.length > 0) parts.push(`${missing.length} missing: ${nameList(missing)}`);
    if (extra.length > 0) parts.push(`${extra.length} without a test image: ${nameList(extra)}`);
    if (duplicates.length > 0) {
      parts.push(`${duplicates.length} given twice (.tiff and .npy?): ${nameList(duplicates)}`);
    }
    throw new Error(
      `${category}: anomaly maps under ${mapTestDir} do not match the test images (expected <defect>/<stem>.tiff|.npy): ${
        parts.join("; ")
      }`,
    );
  }
  for (const item of items) item.mapPath = found.get(item.key)!;
  return items;
}
