/**
 * Heat-map panels a person can read: `input | ground truth | heat-map overlay` side by side, for the best-
 * and worst-scored anomalous test images of a category (the ones a reader should look at), written as PNG
 * with sharp.
 *
 * - A title line names the image, its image score and its rank among the category's anomalous images.
 * - Small images are enlarged to about 256 px per tile, the image and the map bilinearly (smooth), the
 *   mask by nearest neighbour (its edges stay exact).
 * - Colours: one linear min–max normalisation per category (the lowest and highest value of every map of
 *   the category's test images), so panels of one run are comparable; the colour bar under the overlay
 *   shows the jet scale with those two values at its ends. The overlay is 50 % image, 50 % colour.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import type { ImageSample } from "../datasets/types.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import type { ScoreMap } from "../metrics/mod.ts";

/** Height of the title line, and of the colour bar band (bar plus its labels), in pixels. */
const TITLE_HEIGHT = 22;
const BAR_HEIGHT = 12;
const BAR_BAND = 34;

/** The jet colour map at t ∈ [0, 1], as RGB 0..255. */
export function jet(t: number): [number, number, number] {
  const c = (x: number) => Math.round(255 * Math.min(1, Math.max(0, x)));
  return [c(1.5 - Math.abs(4 * t - 3)), c(1.5 - Math.abs(4 * t - 2)), c(1.5 - Math.abs(4 * t - 1))];
}

/** Bilinear sample of a row-major grid at continuous source coordinates (half-pixel centres, clamped). */
function bilinear(
  get: (x: number, y: number) => number,
  w: number,
  h: number,
  sx: number,
  sy: number,
): number {
  const x = Math.min(Math.max(sx, 0), w - 1), y = Math.min(Math.max(sy, 0), h - 1);
  const x0 = Math.floor(x), y0 = Math.floor(y);
  const x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
  const fx = x - x0, fy = y - y0;
  const top = (1 - fx) * get(x0, y0) + fx * get(x1, y0);
  const bottom = (1 - fx) * get(x0, y1) + fx * get(x1, y1);
  return (1 - fy) * top + fy * bottom;
}

/**
 * Builds the tiles of one panel as raw RGB: three tiles of the image's size scaled by `zoom` (image and
 * map bilinear, mask nearest). `lo`/`hi` normalise the map; the overlay is 50 % image, 50 % jet.
 *
 * @example
 * ```ts
 * const { width, height, rgb } = composePanel(sample, map, lo, hi, 8);
 * ```
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
  const px = sample.pixels, m = map.data;
  for (let y = 0; y < th; y++) {
    const sy = (y + 0.5) / zoom - 0.5;
    for (let x = 0; x < tw; x++) {
      const sx = (x + 0.5) / zoom - 0.5;
      const pixel = [0, 1, 2].map((c) =>
        zoom === 1
          ? px[(y * w + x) * 3 + c]
          : Math.round(bilinear((i, j) => px[(j * w + i) * 3 + c], w, h, sx, sy))
      );
      const value = zoom === 1 ? m[y * w + x] : bilinear((i, j) => m[j * w + i], w, h, sx, sy);
      const nearest = Math.floor(y / zoom) * w + Math.floor(x / zoom);
      const mask = sample.mask?.[nearest] ? 255 : 0;
      const [r, g, b] = jet((value - lo) / span);
      const row = y * width;
      rgb.set(pixel, (row + x) * 3);
      rgb.set([mask, mask, mask], (row + tw + x) * 3);
      rgb.set([(pixel[0] + r) >> 1, (pixel[1] + g) >> 1, (pixel[2] + b) >> 1], (row + 2 * tw + x) * 3);
    }
  }
  return { width, height: th, rgb };
}

/** What a panel's title says about its image. */
export interface PanelCaption {
  /** `best` or `worst`, and its place in that list (1-based). */
  kind: "best" | "worst";
  /** The test image, relative to the dataset root. */
  path: string;
  /** Its image score. */
  score: number;
  /** Its rank among the category's anomalous images by score (1 = highest), and how many there are. */
  rank: number;
  of: number;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Formats a number for a caption with 4 significant digits (exponent when very large or small). */
export function formatValue(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(3) : Number(v.toPrecision(4)).toString();
}

/** The title line of a panel. */
export function panelTitle(caption: PanelCaption): string {
  return `${caption.path} — score ${formatValue(caption.score)}, rank ${caption.rank} of ${caption.of} ` +
    `anomalous (${caption.kind})`;
}

/**
 * Lays out a whole panel: title line, the three tiles, and the colour bar (under the overlay tile) with
 * the normalisation range at its ends; returns PNG bytes.
 */
export async function renderPanel(
  sample: ImageSample,
  map: ScoreMap,
  range: { lo: number; hi: number },
  caption: PanelCaption,
  zoom: number,
): Promise<Uint8Array> {
  const tiles = composePanel(sample, map, range.lo, range.hi, zoom);
  const tw = tiles.width / 3;
  const width = tiles.width, height = TITLE_HEIGHT + tiles.height + BAR_BAND;
  const rgb = new Uint8Array(width * height * 3).fill(255);
  rgb.set(tiles.rgb, TITLE_HEIGHT * width * 3);
  const barTop = TITLE_HEIGHT + tiles.height + 4;
  const barLeft = 2 * tw + 4, barWidth = tw - 8;
  for (let x = 0; x < barWidth; x++) {
    const colour = jet(x / Math.max(barWidth - 1, 1));
    for (let y = barTop; y < barTop + BAR_HEIGHT; y++) rgb.set(colour, (y * width + barLeft + x) * 3);
  }
  const labelY = barTop + BAR_HEIGHT + 13;
  const text = (x: number, y: number, anchor: string, content: string, size = 12) =>
    `<text x="${x}" y="${y}" text-anchor="${anchor}" font-family="sans-serif" font-size="${size}" ` +
    `fill="#000">${escapeXml(content)}</text>`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">` +
    text(4, 15, "start", panelTitle(caption), 13) +
    text(4, labelY, "start", "input") + text(tw + 4, labelY, "start", "ground truth") +
    text(barLeft, labelY, "start", formatValue(range.lo)) +
    text(barLeft + barWidth / 2, labelY, "middle", "map (category range)") +
    text(barLeft + barWidth, labelY, "end", formatValue(range.hi)) + "</svg>";
  const sharp = (await import("sharp")).default;
  const png = await sharp(rgb, { raw: { width, height, channels: 3 } })
    .composite([{ input: Buffer.from(svg), top: 0, left: 0 }])
    .png()
    .toBuffer();
  return new Uint8Array(png);
}

/** Lowest and highest value over every map (the category's normalisation range). */
export function mapRange(maps: ScoreMap[]): { lo: number; hi: number } {
  let lo = Infinity, hi = -Infinity;
  for (const m of maps) {
    for (let i = 0; i < m.data.length; i++) {
      const v = m.data[i];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  return { lo, hi };
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
  const range = mapRange(maps);
  const best = anomalous.slice(0, count);
  const worst = anomalous.slice(-count).reverse().filter((i) => !best.includes(i));
  const written: string[] = [];
  const picks: ["best" | "worst", number[]][] = [["best", best], ["worst", worst]];
  for (const [kind, indices] of picks) {
    for (const [k, i] of indices.entries()) {
      const zoom = Math.max(1, Math.floor(256 / test[i].width));
      const caption = {
        kind,
        path: test[i].path,
        score: scores[i],
        rank: anomalous.indexOf(i) + 1,
        of: anomalous.length,
      };
      const png = await renderPanel(test[i], maps[i], range, caption, zoom);
      // The name says which test image it is: best-1_<defect>_<stem>.png.
      const stem = test[i].path.split("/").slice(-2).join("_").replace(/\.[^.]*$/, "").replace(
        /[^A-Za-z0-9_.-]+/g,
        "-",
      );
      const rel = `panels/${kind}-${k + 1}_${stem}.png`;
      await writeFileAtomic(join(runDir, rel), png);
      written.push(rel);
    }
  }
  return written;
}
