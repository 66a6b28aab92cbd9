/**
 * Heat-map panels: `input | ground truth | heat-map overlay` side by side, written as PNG with sharp, for
 * the best- and worst-scored anomalous test images of a category (the ones a reader should look at).
 * Maps are normalised with one min/max per category so panels of a run are comparable.
 *
 * @module
 */
import { join } from "node:path";
import type { ImageSample } from "../datasets/types.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import type { ScoreMap } from "../metrics/mod.ts";

/** The jet colour map at t ∈ [0, 1], as RGB 0..255. */
export function jet(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/**
 * Builds one panel as raw RGB: three tiles of the image's size, each scaled up by `zoom` (nearest).
 * `lo`/`hi` normalise the map; the overlay is 50 % image, 50 % jet.
 */
export function composePanel(
  sample: ImageSample,
  map: ScoreMap,
  lo: number,
  hi: number,
  zoom = 1,
): { width: number; height: number; rgb: Uint8Array } {
  const { width: w, height: h } = sample;
  if (map.width !== w || map.height !== h) {
    throw new Error(`panel for ${sample.path}: map is ${map.width}×${map.height}, image ${w}×${h}`);
  }
  const tw = w * zoom, th = h * zoom, width = 3 * tw;
  const rgb = new Uint8Array(width * th * 3);
  const span = hi > lo ? hi - lo : 1;
  for (let y = 0; y < th; y++) {
    for (let x = 0; x < tw; x++) {
      const i = Math.floor(y / zoom) * w + Math.floor(x / zoom);
      const px = sample.pixels.subarray(i * 3, i * 3 + 3);
      const m = sample.mask?.[i] ? 255 : 0;
      const [r, g, b] = jet((map.data[i] - lo) / span);
      const row = y * width;
      rgb.set(px, (row + x) * 3);
      rgb.set([m, m, m], (row + tw + x) * 3);
      rgb.set(
        [(px[0] + r) >> 1, (px[1] + g) >> 1, (px[2] + b) >> 1],
        (row + 2 * tw + x) * 3,
      );
    }
  }
  return { width, height: th, rgb };
}

/**
 * Writes `panels/best-<k>_<defect>_<stem>.png` and `panels/worst-<k>_…png` into `runDir` for the `count`
 * highest- and lowest-scored anomalous test images; returns the written paths relative to `runDir`.
 *
 * @example
 * ```ts
 * const files = await writeHeatmapPanels(runDir, split.test, scores, maps, 2);
 * ```
 */
export async function writeHeatmapPanels(
  runDir: string,
  test: ImageSample[],
  scores: ArrayLike<number>,
  maps: ScoreMap[],
  count: number,
): Promise<string[]> {
  const anomalous = test.map((_, i) => i).filter((i) => test[i].label === 1);
  if (anomalous.length === 0 || count <= 0) return [];
  anomalous.sort((a, b) => scores[b] - scores[a] || a - b);
  let lo = Infinity, hi = -Infinity;
  for (const m of maps) {
    for (let i = 0; i < m.data.length; i++) {
      const v = m.data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const best = anomalous.slice(0, count);
  const worst = anomalous.slice(-count).reverse().filter((i) => !best.includes(i));
  const sharp = (await import("sharp")).default;
  const written: string[] = [];
  const picks: [string, number[]][] = [["best", best], ["worst", worst]];
  for (const [kind, indices] of picks) {
    for (const [k, i] of indices.entries()) {
      const zoom = Math.max(1, Math.floor(256 / test[i].width));
      const panel = composePanel(test[i], maps[i], lo, hi, zoom);
      const png = await sharp(panel.rgb, { raw: { width: panel.width, height: panel.height, channels: 3 } })
        .png()
        .toBuffer();
      // The name says which test image it is: best-1_<defect>_<stem>.png.
      const stem = test[i].path.split("/").slice(-2).join("_").replace(/\.[^.]*$/, "").replace(
        /[^A-Za-z0-9_.-]+/g,
        "-",
      );
      const rel = `panels/${kind}-${k + 1}_${stem}.png`;
      await writeFileAtomic(join(runDir, rel), new Uint8Array(png));
      written.push(rel);
    }
  }
  return written;
}
