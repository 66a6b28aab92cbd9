/**
 * Checks an extracted tree against the lock's expected layout (per-category counts, IDX headers) and
 * returns every difference, so an incomplete mirror (datasets.md §1: metal_nut with 77 instead of 93
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
export async function listFiles(dir: string, extensions: string[]): Promise<string[]> {
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

/** Counts one category folder the way the lock describes it. */
export async function countCategory(categoryDir: string, layout: CategoriesLayout): Promise<FoundCounts> {
  const exts = layout.imageExtensions;
  const trainGood = (await listFiles(join(categoryDir, "train", layout.normalFolder), exts)).length;
  const testGood = (await listFiles(join(categoryDir, "test", layout.normalFolder), exts)).length;
  const defectFolders = (await listFolders(join(categoryDir, "test"))).filter((f) =>
    f !== layout.normalFolder
  );
  let testDefect = 0;
  for (const folder of defectFolders) {
    testDefect += (await listFiles(join(categoryDir, "test", folder), exts)).length;
  }
  let masks = 0;
  for (const folder of await listFolders(join(categoryDir, "ground_truth"))) {
    masks += (await listFiles(join(categoryDir, "ground_truth", folder), exts)).length;
  }
  return { trainGood, testGood, testDefect, masks, defectTypes: defectFolders.length };
}

/**
 * Differences between the tree at `root` and the lock's category layout; `[]` when everything matches.
 *
 * @example
 * ```ts
 * const diffs = await checkCategoriesLayout("data/mvtec/mvtec_anomaly_detection", lock.datasets.mvtec.layout);
 * ```
 */
export async function checkCategoriesLayout(root: string, layout: CategoriesLayout): Promise<string[]> {
  const differences: string[] = [];
  const present = await listFolders(root);
  for (const [category, expected] of Object.entries(layout.categories)) {
    if (!present.includes(category)) {
      differences.push(`${category}: folder missing`);
      continue;
    }
    const found = await countCategory(join(root, category), layout);
    for (const key of Object.keys(expected) as (keyof FoundCounts)[]) {
      if (found[key] !== expected[key]) {
        differences.push(`${category}: ${key} ${found[key]}, expected ${expected[key]}`);
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
