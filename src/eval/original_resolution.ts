/**
 * Evaluation at the original mask resolution (`--eval-resolution original`): anomaly maps computed at
 * the preprocessed size (resize R×R, centre crop C) are mapped back onto each test image's original
 * W×H grid, and compared with the original masks read from disk (binarised `> 0`, no resizing).
 *
 * The inverse geometry: an original pixel centre x lies at u = (x + ½)·R/W − ½ in the resized image
 * (half-pixel centres, as PIL's resize), i.e. at u − offset in the crop, offset = torchvision's
 * `round((R − C)/2)`. The map is sampled there bilinearly; pixels the crop cut off take the nearest
 * border value of the map (edge extension), since the model never saw them.
 *
 * @module
 */
import { join } from "node:path";
import type { ImageSample } from "../datasets/types.ts";
import { centerCropOffset } from "../datasets/preprocess.ts";
import type { MaskMap, ScoreMap } from "../metrics/mod.ts";

export { centerCropOffset };

/**
 * Maps a C×C map of the preprocessed image (resized to R×R, centre-cropped to C) back to the original
 * `width`×`height` grid (float32).
 *
 * @example
 * ```ts
 * const full = mapToOriginal(map512, { resize: 550, crop: 512 }, 1024, 1024);
 * ```
 */
export function mapToOriginal(
  map: ScoreMap,
  geometry: { resize: number; crop: number },
  width: number,
  height: number,
): ScoreMap {
  const { resize, crop } = geometry;
  if (map.width !== crop || map.height !== crop) {
    throw new Error(`mapToOriginal: map is ${map.width}×${map.height}, expected the ${crop}×${crop} crop`);
  }
  const offset = centerCropOffset(resize, crop);
  const coords = (n: number) => {
    const i0 = new Int32Array(n), i1 = new Int32Array(n), f = new Float64Array(n);
    for (let x = 0; x < n; x++) {
      const u = Math.min(Math.max((x + 0.5) * resize / n - 0.5 - offset, 0), crop - 1);
      i0[x] = Math.floor(u);
      i1[x] = Math.min(i0[x] + 1, crop - 1);
      f[x] = u - i0[x];
    }
    return { i0, i1, f };
  };
  const cx = coords(width), cy = coords(height);
  const out = new Float32Array(width * height);
  const d = map.data;
  for (let y = 0; y < height; y++) {
    const r0 = cy.i0[y] * crop, r1 = cy.i1[y] * crop, fy = cy.f[y];
    for (let x = 0; x < width; x++) {
      const a = cx.i0[x], b = cx.i1[x], fx = cx.f[x];
      const top = (1 - fx) * d[r0 + a] + fx * d[r0 + b];
      const bottom = (1 - fx) * d[r1 + a] + fx * d[r1 + b];
      out[y * width + x] = (1 - fy) * top + fy * bottom;
    }
  }
  return { width, height, data: out };
}

/** A decoded image: what the data layer's `decodeImage` returns. */
export interface DecodedImage {
  width: number;
  height: number;
  channels: number;
  data: Uint8Array;
}

/**
 * Original-size masks of the test images: each anomalous image's mask file (`sample.maskPath`) read and
 * binarised `> 0` (any channel); normal images all zero at their original size.
 */
export async function loadOriginalMasks(
  root: string,
  test: ImageSample[],
  decode: (path: string) => Promise<DecodedImage>,
): Promise<MaskMap[]> {
  const masks: MaskMap[] = [];
  for (const sample of test) {
    if (sample.label === 0) {
      const image = await decode(join(root, sample.path));
      masks.push({
        width: image.width,
        height: image.height,
        data: new Uint8Array(image.width * image.height),
      });
      continue;
    }
    // The loader found the mask file when it loaded the split; it names it on the sample.
    if (sample.maskPath === null) {
      throw new Error(`original mask for ${sample.path} unknown: the anomalous test image has no mask file`);
    }
    const found = await decode(join(root, sample.maskPath));
    const n = found.width * found.height;
    const data = new Uint8Array(n);
    const colour = found.channels === 2 ? 1 : found.channels === 4 ? 3 : found.channels; // ignore alpha
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < colour; c++) {
        if (found.data[i * found.channels + c] > 0) {
          data[i] = 1;
          break;
        }
      }
    }
    masks.push({ width: found.width, height: found.height, data });
  }
  return masks;
}
