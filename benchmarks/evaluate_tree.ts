/**
 * Writes the `evaluate` benchmark's input: an MVTec-format tree with one category (`bottle`, a name the
 * official `evaluate_experiment.py` accepts) of IMAGES test images, half `good` and half `broken_large`,
 * each with a float32 TIFF anomaly map of SIZE² and, for defective images, a 0/255 PNG mask. The content
 * is {@linkcode syntheticPair}'s (deterministic for a seed), so the tree is the same on every machine.
 *
 * ```
 * OUT/gt/bottle/test/{good,broken_large}/NNN.png          (1×1 placeholders: only their names are read)
 * OUT/gt/bottle/ground_truth/broken_large/NNN_mask.png
 * OUT/maps/bottle/test/{good,broken_large}/NNN.tiff
 * ```
 *
 * `deno run --allow-read --allow-write benchmarks/evaluate_tree.ts OUT [IMAGES] [SIZE]` (default 100 × 1024²).
 *
 * @module
 */
import { encode as encodePng } from "fast-png";
import { join } from "node:path";
import { encodeFloat32Tiff } from "../tests/helpers/float_tiff.ts";
import { rng, syntheticPair } from "./synthetic_maps.ts";

/** The one category of the tree. */
export const TREE_CATEGORY = "bottle";
/** The defect folder of the anomalous half. */
export const TREE_DEFECT = "broken_large";

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
  { images = 100, size = 1024, seed = 1, lift = 0.05 }: EvaluateTreeOptions = {},
): Promise<{ maps: string; gt: string }> {
  const maps = join(out, "maps"), gt = join(out, "gt");
  const random = rng(seed);
  const placeholder = encodePng({ width: 1, height: 1, data: new Uint8Array(1), channels: 1, depth: 8 });
  for (const folder of ["good", TREE_DEFECT]) {
    await Deno.mkdir(join(gt, TREE_CATEGORY, "test", folder), { recursive: true });
    await Deno.mkdir(join(maps, TREE_CATEGORY, "test", folder), { recursive: true });
  }
  await Deno.mkdir(join(gt, TREE_CATEGORY, "ground_truth", TREE_DEFECT), { recursive: true });
  for (let i = 0; i < images; i++) {
    const { map, mask } = syntheticPair(random, i, size, lift);
    const defective = i % 2 === 1;
    const folder = defective ? TREE_DEFECT : "good";
    const stem = String(Math.floor(i / 2)).padStart(3, "0");
    await Deno.writeFile(join(gt, TREE_CATEGORY, "test", folder, `${stem}.png`), placeholder);
    await Deno.writeFile(
      join(maps, TREE_CATEGORY, "test", folder, `${stem}.tiff`),
      encodeFloat32Tiff(size, size, map.data as Float32Array),
    );
    if (defective) {
      await Deno.writeFile(
        join(gt, TREE_CATEGORY, "ground_truth", TREE_DEFECT, `${stem}_mask.png`),
        encodePng({ width: size, height: size, data: mask.data, channels: 1, depth: 8 }),
      );
    }
  }
  return { maps, gt };
}

if (import.meta.main) {
  const [out, images, size] = Deno.args;
  if (out === undefined) {
    console.error(
      "usage: deno run --allow-read --allow-write benchmarks/evaluate_tree.ts OUT [IMAGES] [SIZE]",
    );
    Deno.exit(2);
  }
  const paths = await writeEvaluateTree(out, {
    images: images === undefined ? undefined : Number(images),
    size: size === undefined ? undefined : Number(size),
  });
  console.log(JSON.stringify(paths));
}
