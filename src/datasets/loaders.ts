/**
 * Loaders: list a dataset's categories and load one category's train/test split, preprocessed and
 * cached. MVTec AD and `synthetic` share the MVTec layout; BTAD uses `ok`/`ko` and BMP or PNG files;
 * MNIST and Fashion-MNIST are one-class splits of the IDX files.
 *
 * Unlike the original code (two unsorted `os.listdir` calls, docs/original-code.md §9), every listing
 * is sorted and each test image is paired with its mask by stem.
 *
 * @module
 */
import { dirname, join } from "node:path";
import { PreprocessCache } from "./cache.ts";
import { decodeImage } from "./image_decode.ts";
import { parseIdx } from "./idx.ts";
import { listFiles, listFolders } from "./layout.ts";
import { preprocessImage, preprocessMask } from "./preprocess.ts";
import type { CategorySplit, ImageSample } from "./types.ts";
import { datasetSpec, type FolderStorage, type IdxStorage, type MaskResize } from "../core/datasets.ts";

/** How images are prepared (docs/original-code.md §9: resize 550, crop 512). */
export interface PreprocessOptions {
  /** Resize to `resize`×`resize` (antialiased bilinear). */
  resize: number;
  /** Then centre crop `crop`×`crop`. */
  crop: number;
  /** Mask resize: bilinear then `> 0` (default, as the original code) or nearest. */
  maskResize?: MaskResize;
  /**
   * Cache folder for preprocessed pixels. Default: `<dataDir>/.cache` when `root` lies in a data dir made
   * by `ensureDataset`, else no cache.
   */
  cacheDir?: string;
  /** Images decoded at once. Default 4. */
  concurrency?: number;
}

/** The storage conventions of a dataset, from the registry. */
function storageOf(dataset: string): FolderStorage | IdxStorage {
  return datasetSpec(dataset).storage;
}

/**
 * Categories of a dataset: MVTec categories, BTAD products (`01`…), MNIST classes `0`…`9`, synthetic
 * categories; sorted.
 *
 * @example
 * ```ts
 * const categories = await listCategories("synthetic", "data/synthetic/synthetic"); // ["disc", "lattice", "weave"]
 * ```
 */
export async function listCategories(dataset: string, root: string): Promise<string[]> {
  const spec = datasetSpec(dataset);
  if (spec.storage.kind === "idx") return [...spec.categories];
  const folders = await listFolders(root);
  const categories: string[] = [];
  for (const folder of folders) {
    if ((await listFolders(join(root, folder, "train"))).length > 0) categories.push(folder);
  }
  if (categories.length === 0) {
    throw new Error(
      `${dataset}: no category folders (with a train/ folder) under ${root} (run download first)`,
    );
  }
  return categories;
}

/** Finds the data dir above `root` (the folder holding the dataset marker's folder). */
async function findDataDir(root: string): Promise<string | null> {
  let dir = root;
  for (let i = 0; i < 4; i++) {
    try {
      await Deno.stat(join(dir, ".vtadl-dataset.json"));
      return dirname(dir);
    } catch {
      const parent = dirname(dir);
      if (parent === dir) return null;
      dir = parent;
    }
  }
  return null;
}

async function openCache(root: string, pre: PreprocessOptions): Promise<PreprocessCache> {
  if (pre.cacheDir !== undefined) return new PreprocessCache(pre.cacheDir);
  const dataDir = await findDataDir(root);
  return new PreprocessCache(dataDir ? join(dataDir, ".cache") : null);
}

/** Runs `fn` over `items` with at most `limit` in flight, keeping order. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  });
  await Promise.all(workers);
  return out;
}

interface FileRecord {
  path: string;
  label: 0 | 1;
  defectType: string;
  maskPath: string | null;
}

async function cachedImage(
  cache: PreprocessCache,
  path: string,
  pre: PreprocessOptions,
): Promise<Uint8Array> {
  if (!cache.dir) return await preprocessImage(await decodeImage(path), pre.resize, pre.crop);
  const key = PreprocessCache.key(await cache.sourceDigest(path), {
    kind: "image",
    resize: pre.resize,
    crop: pre.crop,
  });
  const length = pre.crop * pre.crop * 3;
  const hit = await cache.get(key, length);
  if (hit) return hit;
  const pixels = await preprocessImage(await decodeImage(path), pre.resize, pre.crop);
  await cache.put(key, pixels);
  return pixels;
}

async function cachedMask(cache: PreprocessCache, path: string, pre: PreprocessOptions): Promise<Uint8Array> {
  const mode = pre.maskResize ?? "bilinearAnyPositive";
  if (!cache.dir) return await preprocessMask(await decodeImage(path), pre.resize, pre.crop, mode);
  const key = PreprocessCache.key(await cache.sourceDigest(path), {
    kind: "mask",
    resize: pre.resize,
    crop: pre.crop,
    mode,
  });
  const hit = await cache.get(key, pre.crop * pre.crop);
  if (hit) return hit;
  const mask = await preprocessMask(await decodeImage(path), pre.resize, pre.crop, mode);
  await cache.put(key, mask);
  return mask;
}

/** The mask of a test image, relative to the dataset root: the first candidate name that exists. */
async function findMask(
  root: string,
  category: string,
  relImage: string,
  defect: string,
  names: string[],
): Promise<string> {
  for (const name of names) {
    const rel = `${category}/ground_truth/${defect}/${name}`;
    try {
      if ((await Deno.stat(join(root, rel))).isFile) return rel;
    } catch {
      // try the next name
    }
  }
  throw new Error(
    `mask for ${relImage} not found: looked for ${
      names.map((n) => `ground_truth/${defect}/${n}`).join(" and ")
    } ` +
      `(incomplete dataset: run download again)`,
  );
}

async function loadFolderSplit(
  dataset: string,
  root: string,
  category: string,
  pre: PreprocessOptions,
): Promise<CategorySplit> {
  const storage = storageOf(dataset);
  if (storage.kind !== "folders") throw new Error(`${dataset} is not stored in category folders`);
  const { normalFolder: normal, imageExtensions: extensions, maskNames } = storage;
  const categoryDir = join(root, category);
  const trainFolders = await listFolders(join(categoryDir, "train"));
  if (trainFolders.length === 0) {
    const known = await listCategories(dataset, root).catch(() => []);
    throw new Error(`${dataset}: category "${category}" not found under ${root} (have: ${known.join(", ")})`);
  }
  const train: FileRecord[] = [];
  for (const folder of trainFolders) {
    // code: every subfolder of train/ is training data (mvtech.py:16-70).
    for (const file of await listFiles(join(categoryDir, "train", folder), extensions)) {
      train.push({
        path: `${category}/train/${folder}/${file}`,
        label: 0,
        defectType: folder,
        maskPath: null,
      });
    }
  }
  const test: FileRecord[] = [];
  for (const folder of await listFolders(join(categoryDir, "test"))) {
    for (const file of await listFiles(join(categoryDir, "test", folder), extensions)) {
      const rel = `${category}/test/${folder}/${file}`;
      const anomalous = folder !== normal;
      const stem = file.slice(0, file.lastIndexOf("."));
      const maskPath = anomalous ? await findMask(root, category, rel, folder, maskNames(stem)) : null;
      test.push({ path: rel, label: anomalous ? 1 : 0, defectType: folder, maskPath });
    }
  }
  test.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const cache = await openCache(root, pre);
  const load = async (record: FileRecord): Promise<ImageSample> => ({
    path: record.path,
    label: record.label,
    defectType: record.defectType,
    width: pre.crop,
    height: pre.crop,
    channels: 3,
    pixels: await cachedImage(cache, join(root, record.path), pre),
    mask: record.maskPath ? await cachedMask(cache, join(root, record.maskPath), pre) : null,
    maskPath: record.maskPath,
  });
  const concurrency = pre.concurrency ?? 4;
  const split: CategorySplit = {
    dataset,
    category,
    train: await mapLimit(train, concurrency, load),
    test: await mapLimit(test, concurrency, load),
  };
  await cache.flush();
  return split;
}

async function readIdx(
  root: string,
  name: string,
  magic: number,
): Promise<{ dims: number[]; data: Uint8Array }> {
  const path = join(root, name);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    throw new Error(`cannot read IDX file ${path}: ${(error as Error).message} (run download first)`);
  }
  const parsed = parseIdx(bytes, path);
  if (parsed.magic !== magic) throw new Error(`IDX file ${path}: magic ${parsed.magic}, expected ${magic}`);
  return parsed;
}

/** Preprocesses `indices` of an IDX image array, cached as one blob per (file, indices, transform). */
async function idxImages(
  cache: PreprocessCache,
  root: string,
  file: string,
  images: { dims: number[]; data: Uint8Array },
  indices: number[],
  selection: string,
  pre: PreprocessOptions,
): Promise<Uint8Array[]> {
  const [, rows, cols] = images.dims;
  const pixels = rows * cols;
  const out = pre.crop * pre.crop * 3;
  const identity = pre.resize === rows && pre.crop === rows && rows === cols;
  const expand = (i: number): Uint8Array => {
    const rgb = new Uint8Array(pixels * 3);
    const base = i * pixels;
    for (let p = 0; p < pixels; p++) {
      const v = images.data[base + p];
      rgb[p * 3] = v;
      rgb[p * 3 + 1] = v;
      rgb[p * 3 + 2] = v;
    }
    return rgb;
  };
  if (identity) return indices.map(expand);
  const key = PreprocessCache.key(await cache.sourceDigest(join(root, file)), {
    kind: "idx",
    selection,
    resize: pre.resize,
    crop: pre.crop,
  });
  const hit = await cache.get(key, indices.length * out);
  if (hit) return indices.map((_, k) => hit.subarray(k * out, (k + 1) * out));
  const blob = new Uint8Array(indices.length * out);
  const results = await mapLimit(indices, pre.concurrency ?? 4, (i) =>
    preprocessImage(
      { width: cols, height: rows, channels: 1, data: images.data.subarray(i * pixels, (i + 1) * pixels) },
      pre.resize,
      pre.crop,
    ));
  results.forEach((r, k) => blob.set(r, k * out));
  await cache.put(key, blob);
  return indices.map((_, k) => blob.subarray(k * out, (k + 1) * out));
}

async function loadIdxSplit(
  dataset: string,
  root: string,
  category: string,
  pre: PreprocessOptions,
): Promise<CategorySplit> {
  const storage = storageOf(dataset);
  if (storage.kind !== "idx") throw new Error(`${dataset} is not stored as IDX files`);
  const IDX_FILES = storage.files;
  if (!datasetSpec(dataset).categories.includes(category)) {
    throw new Error(`${dataset}: category must be the normal class "0".."9", got "${category}"`);
  }
  const normal = Number(category);
  const trainImages = await readIdx(root, IDX_FILES.trainImages, 2051);
  const trainLabels = await readIdx(root, IDX_FILES.trainLabels, 2049);
  const testImages = await readIdx(root, IDX_FILES.testImages, 2051);
  const testLabels = await readIdx(root, IDX_FILES.testLabels, 2049);
  if (trainImages.dims[0] !== trainLabels.dims[0] || testImages.dims[0] !== testLabels.dims[0]) {
    throw new Error(
      `${dataset}: image and label counts differ in ${root} (corrupt download: run download again)`,
    );
  }
  const cache = await openCache(root, pre);
  const trainIndices: number[] = [];
  for (let i = 0; i < trainLabels.dims[0]; i++) if (trainLabels.data[i] === normal) trainIndices.push(i);
  const testIndices = Array.from({ length: testLabels.dims[0] }, (_, i) => i);
  const trainPixels = await idxImages(
    cache,
    root,
    IDX_FILES.trainImages,
    trainImages,
    trainIndices,
    `class${normal}`,
    pre,
  );
  const testPixels = await idxImages(cache, root, IDX_FILES.testImages, testImages, testIndices, "all", pre);
  const sample = (file: string, i: number, y: number, pixels: Uint8Array): ImageSample => ({
    path: `${file}#${String(i).padStart(5, "0")}`,
    label: y === normal ? 0 : 1,
    defectType: String(y),
    width: pre.crop,
    height: pre.crop,
    channels: 3,
    pixels,
    mask: null,
    maskPath: null,
  });
  const split: CategorySplit = {
    dataset,
    category,
    train: trainIndices.map((i, k) => sample(IDX_FILES.trainImages, i, normal, trainPixels[k])),
    test: testIndices.map((i, k) => sample(IDX_FILES.testImages, i, testLabels.data[i], testPixels[k])),
  };
  await cache.flush();
  return split;
}

/**
 * Loads one category: train = its normal training images; test = normal and anomalous test images with
 * masks (MVTec, BTAD, synthetic), sorted by path. For MNIST/Fashion-MNIST, `category` is the normal class
 * and the test set is the whole test set (label 1 = any other class), masks `null`.
 *
 * @example
 * ```ts
 * const split = await loadCategorySplit("mvtec", root, "bottle", { resize: 550, crop: 512 });
 * ```
 */
export function loadCategorySplit(
  dataset: string,
  root: string,
  category: string,
  pre: PreprocessOptions,
): Promise<CategorySplit> {
  return storageOf(dataset).kind === "idx"
    ? loadIdxSplit(dataset, root, category, pre)
    : loadFolderSplit(dataset, root, category, pre);
}
