/**
 * Writes the `evaluate` benchmark's input: an MVTec-format tree with one category (`bottle`, a name the
 * official `evaluate_experiment.py` accepts) of IMAGES test images, half `good` and half `broken_large`,
 * (or split over up to three defect folders), each with a float32 TIFF anomaly map of SIZE² and, for
 * defective images, a 0/255 PNG mask. The content
 * is {@linkcode syntheticPair}'s (deterministic for a seed), so the tree is the same on every machine.
 *
 * ```
 * OUT/gt/bottle/test/{good,broken_large}/NNN.png          (1×1 placeholders: only their names are read)
 * OUT/gt/bottle/ground_truth/broken_large/NNN_mask.png
 * OUT/maps/bottle/test/{good,broken_large}/NNN.tiff
 * ```
 *
 * `deno run --allow-read --allow-write benchmarks/evaluate_tree.ts OUT [IMAGES] [SIZE] [DEFECT_TYPES]`
 * (default 100 × 1024², one defect type).
 *
 * @module
 */
import { encode as encodePng } from "fast-png";
import { join } from "node:path";
import { encodeFloat32Tiff } from "../tests/helpers/float_tiff.ts";
import { rng, syntheticPair } from "./synthetic_maps.ts";

/** The one category of the tree. */
export const TREE_CATEGORY = "bottle";
/** The defect folders of the anomalous half (MVTec AD bottle's), used in turn; the first alone by default. */
export const TREE_DEFECTS = ["broken_large", "broken_small", "contamination"] as const;

/** Options of {@linkcode writeEvaluateTree}. */
export interface EvaluateTreeOptions {
  /** Test images (half `good`, half defective). Default 100. */
  images?: number;
  /** Side of every map and mask. Default 1024. */
  size?: number;
  /** Seed of the synthetic content. Default 1. */
  seed?: number;
  /**
   * Score added inside defects. Default 0.05: small enough that max-of-map image scores of good and
   * defective images overlap, so that image AUROC is not simply 1.
   */
  lift?: number;
  /**
   * Defect types the anomalous images are dealt into, in turn (1–3). Default 1. The maps and masks are
   * the same whatever the count, so the category's numbers are too; only the per-defect breakdown differs.
   */
  defectTypes?: number;
}

/**
 * Writes the tree under `out` (created if needed) and returns the `--maps` and `--gt` folders.
 *
 * @example
 * ```ts
 * const { maps, gt } = await writeEvaluateTree("/tmp/tree", { images: 4, size: 64 });
 * ```
 */
export async function writeEvaluateTree(
  out: string,
  { images = 100, size = 1024, seed = 1, lift = 0.05, defectTypes = 1 }: EvaluateTreeOptions = {},
): Promise<{ maps: string; gt: string }> {
  if (!(Number.isInteger(defectTypes) && defectTypes >= 1 && defectTypes <= TREE_DEFECTS.length)) {
    throw new RangeError(`defectTypes must be 1–${TREE_DEFECTS.length}, got ${defectTypes}`);
  }
  const defects = TREE_DEFECTS.slice(0, defectTypes);
  const maps = join(out, "maps"), gt = join(out, "gt");
  const random = rng(seed);
  const placeholder = encodePng({ width: 1, height: 1, data: new Uint8Array(1), channels: 1, depth: 8 });
  for (const folder of ["good", ...defects]) {
    await Deno.mkdir(join(gt, TREE_CATEGORY, "test", folder), { recursive: true });
    await Deno.mkdir(join(maps, TREE_CATEGORY, "test", folder), { recursive: true });
  }
  for (const folder of defects) {
    await Deno.mkdir(join(gt, TREE_CATEGORY, "ground_truth", folder), { recursive: true });
  }
  for (let i = 0; i < images; i++) {
    const { map, mask } = syntheticPair(random, i, size, lift);
    const defective = i % 2 === 1;
    const folder = defective ? defects[Math.floor(i / 2) % defects.length] : "good";
    const stem = String(Math.floor(i / 2)).padStart(3, "0");
    await Deno.writeFile(join(gt, TREE_CATEGORY, "test", folder, `${stem}.png`), placeholder);
    await Deno.writeFile(
      join(maps, TREE_CATEGORY, "test", folder, `${stem}.tiff`),
      encodeFloat32Tiff(size, size, map.data as Float32Array),
    );
    if (defective) {
      await Deno.writeFile(
        join(gt, TREE_CATEGORY, "ground_truth", folder, `${stem}_mask.png`),
        encodePng({ width: size, height: size, data: mask.data, channels: 1, depth: 8 }),
      );
    }
  }
  return { maps, gt };
}

if (import.meta.main) {
  const [out, images, size, defectTypes] = Deno.args;
  if (out === undefined) {
    console.error(
      "usage: deno run --allow-read --allow-write benchmarks/evaluate_tree.ts OUT [IMAGES] [SIZE] [DEFECT_TYPES]",
    );
    Deno.exit(2);
  }
  const paths = await writeEvaluateTree(out, {
    images: images === undefined ? undefined : Number(images),
    size: size === undefined ? undefined : Number(size),
    defectTypes: defectTypes === undefined ? undefined : Number(defectTypes),
  });
  console.log(JSON.stringify(paths));
}
