/**
 * Checks an extracted tree against the lock's expected layout (per-category counts, IDX headers) and
 * returns every difference, so an incomplete mirror (docs/datasets.md §1: metal_nut with 77 instead of 93
 * defective images) is caught after extraction and not mid-training.
 *
 * @module
 */
import { join } from "node:path";
import { readIdxHeader } from "./idx.ts";
import type { CategoriesLayout, IdxLayout } from "./lock.ts";

/** Sorted names of the sub-folders of `dir` (no dot folders); `[]` when `dir` does not exist. */
export async function listFolders(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (entry.isDirectory && !entry.name.startsWith(".")) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names.sort();
}

/** Sorted names of files in `dir` whose extension (lower-cased) is in `extensions`. */
export async function listFiles(dir: string, extensions: readonly string[]): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.isFile || entry.name.startsWith(".")) continue;
      const dot = entry.name.lastIndexOf(".");
      if (dot >= 0 && extensions.includes(entry.name.slice(dot).toLowerCase())) names.push(entry.name);
    }
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return [];
    throw error;
  }
  return names.sort();
}

/** Counts of one category as found on disk. */
export interface FoundCounts {
  trainGood: number;
  testGood: number;
  testDefect: number;
  masks: number;
  defectTypes: number;
}

/** What one category holds: counts, and (when headers were read) image sizes and colour types. */
export interface ObservedCategory extends FoundCounts {
  /** Distinct `W×H` of train and test images, sorted (empty when headers were not read). */
  imageSizes: string[];
  /** Distinct colour types (`grey`, `rgb`, `grey+alpha`, `rgba`, `palette`, `bmp8`, `bmp24`…), sorted. */
  colours: string[];
}

const PNG_COLOURS: Record<number, string> = { 0: "grey", 2: "rgb", 3: "palette", 4: "grey+alpha", 6: "rgba" };

/**
 * Width, height and colour type from a PNG (IHDR) or BMP header, reading only the first bytes; `null`
 * for other formats or a header too short to tell.
 */
export async function readImageHeader(
  path: string,
): Promise<{ width: number; height: number; colour: string } | null> {
  const file = await Deno.open(path, { read: true });
  const head = new Uint8Array(32);
  let got = 0;
  try {
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
  } finally {
    file.close();
  }
  const view = new DataView(head.buffer);
  if (got >= 26 && head[0] === 0x89 && head[1] === 0x50 && head[2] === 0x4e && head[3] === 0x47) {
    return {
      width: view.getUint32(16, false),
      height: view.getUint32(20, false),
      colour: PNG_COLOURS[head[25]] ?? `png${head[25]}`,
    };
  }
  if (got >= 30 && head[0] === 0x42 && head[1] === 0x4d) {
    return {
      width: view.getInt32(18, true),
      height: Math.abs(view.getInt32(22, true)),
      colour: `bmp${view.getUint16(28, true)}`,
    };
  }
  return null;
}

/** Counts one category folder the way the lock describes it; with `headers`, also sizes and colours. */
export async function observeCategory(
  categoryDir: string,
  layout: CategoriesLayout,
  headers = false,
): Promise<ObservedCategory> {
  const exts = layout.imageExtensions;
  const images: string[] = [];
  const list = async (...parts: string[]) => {
    const dir = join(categoryDir, ...parts);
    const names = await listFiles(dir, exts);
    if (parts[0] !== "ground_truth") images.push(...names.map((n) => join(dir, n)));
    return names.length;
  };
  const trainGood = await list("train", layout.normalFolder);
  const testGood = await list("test", layout.normalFolder);
  const defectFolders = (await listFolders(join(categoryDir, "test"))).filter((f) =>
    f !== layout.normalFolder
  );
  let testDefect = 0;
  for (const folder of defectFolders) testDefect += await list("test", folder);
  let masks = 0;
  for (const folder of await listFolders(join(categoryDir, "ground_truth"))) {
    masks += await list("ground_truth", folder);
  }
  const sizes = new Set<string>();
  const colours = new Set<string>();
  if (headers) {
    for (const path of images) {
      const header = await readImageHeader(path);
      sizes.add(header ? `${header.width}×${header.height}` : "unknown");
      colours.add(header?.colour ?? "unknown");
    }
  }
  return {
    trainGood,
    testGood,
    testDefect,
    masks,
    defectTypes: defectFolders.length,
    imageSizes: [...sizes].sort(),
    colours: [...colours].sort(),
  };
}

/**
 * Differences between the tree at `root` and the lock's category layout; `[]` when everything matches.
 * With `headers`, image sizes and colour types are read from the file headers and checked where the
 * lock pins them.
 *
 * @example
 * ```ts
 * const diffs = await checkCategoriesLayout("data/mvtec/mvtec_anomaly_detection", lock.datasets.mvtec.layout);
 * ```
 */
export async function checkCategoriesLayout(
  root: string,
  layout: CategoriesLayout,
  { headers = false, observed }: { headers?: boolean; observed?: Record<string, ObservedCategory> } = {},
): Promise<string[]> {
  const differences: string[] = [];
  const present = await listFolders(root);
  for (const [category, expected] of Object.entries(layout.categories)) {
    if (!present.includes(category)) {
      differences.push(`${category}: folder missing`);
      continue;
    }
    const found = await observeCategory(join(root, category), layout, headers);
    if (observed) observed[category] = found;
    for (const key of ["trainGood", "testGood", "testDefect", "masks", "defectTypes"] as const) {
      if (found[key] !== expected[key]) {
        differences.push(`${category}: ${key} ${found[key]}, expected ${expected[key]}`);
      }
    }
    if (headers && expected.imageSize) {
      const want = `${expected.imageSize[0]}×${expected.imageSize[1]}`;
      if (found.imageSizes.join(",") !== want) {
        differences.push(`${category}: image sizes ${found.imageSizes.join(", ")}, expected ${want}`);
      }
    }
    if (headers && expected.colour) {
      if (found.colours.join(",") !== expected.colour) {
        differences.push(
          `${category}: colour types ${found.colours.join(", ")}, expected ${expected.colour}`,
        );
      }
    }
  }
  for (const folder of present) {
    if (!(folder in layout.categories)) differences.push(`${folder}: unexpected category folder`);
  }
  return differences;
}

/** Differences between the IDX files in `dir` and the lock's IDX layout; `[]` when all match. */
export async function checkIdxLayout(dir: string, layout: IdxLayout): Promise<string[]> {
  const differences: string[] = [];
  for (const [name, expected] of Object.entries(layout.files)) {
    let header;
    try {
      header = await readIdxHeader(join(dir, name));
    } catch (error) {
      differences.push(
        `${name}: ${error instanceof Deno.errors.NotFound ? "missing" : (error as Error).message}`,
      );
      continue;
    }
    if (header.magic !== expected.magic) {
      differences.push(`${name}: magic ${header.magic}, expected ${expected.magic}`);
    }
    if (header.dims.join("×") !== expected.dims.join("×")) {
      differences.push(`${name}: dims ${header.dims.join("×")}, expected ${expected.dims.join("×")}`);
    }
    const size = 4 + 4 * expected.dims.length + expected.dims.reduce((a, b) => a * b, 1);
    if (header.size !== size) differences.push(`${name}: ${header.size} bytes, expected ${size}`);
  }
  return differences;
}
