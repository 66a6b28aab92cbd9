/**
 * Preprocessing as the original code does (docs/original-code.md §9): PIL bilinear `Resize((550, 550))`
 * (antialiased when downsampling) → `CenterCrop(512)` → uint8 HWC; grey images replicated to 3 channels;
 * masks through the same resize and crop, then `> 0`. All sizes are options. The resize uses sharp's
 * `linear` kernel, which like PIL's bilinear widens its support when shrinking (antialiasing); tfjs
 * `resizeBilinear` would not.
 *
 * @module
 */
import sharp from "sharp";
import type { RawImage } from "./image_decode.ts";
import type { MaskResize } from "../core/datasets.ts";

/** Python's `round` (half to even), as torchvision's CenterCrop uses for the offset. */
export function pythonRound(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** torchvision `CenterCrop` offset: `int(round((size - crop) / 2))`; crop 512 of 550 → 19. */
export function centerCropOffset(size: number, crop: number): number {
  return pythonRound((size - crop) / 2);
}

function checkSizes(resize: number, crop: number): void {
  if (!Number.isInteger(resize) || resize < 1 || !Number.isInteger(crop) || crop < 1) {
    throw new Error(`preprocess: resize ${resize} and crop ${crop} must be positive integers`);
  }
  if (crop > resize) {
    throw new Error(`preprocess: crop ${crop} is larger than resize ${resize} (use crop ≤ resize)`);
  }
}

async function resizeRaw(image: RawImage, size: number, kernel: "linear" | "nearest"): Promise<RawImage> {
  if (image.width === size && image.height === size) return image;
  const { data, info } = await sharp(image.data, {
    raw: { width: image.width, height: image.height, channels: image.channels },
  }).resize(size, size, { fit: "fill", kernel }).raw({ depth: "uchar" }).toBuffer({
    resolveWithObject: true,
  });
  return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data) };
}

function cropCentre(image: RawImage, crop: number): RawImage {
  if (image.width === crop && image.height === crop) return image;
  const top = centerCropOffset(image.height, crop);
  const left = centerCropOffset(image.width, crop);
  const c = image.channels;
  const out = new Uint8Array(crop * crop * c);
  for (let y = 0; y < crop; y++) {
    const from = ((top + y) * image.width + left) * c;
    out.set(image.data.subarray(from, from + crop * c), y * crop * c);
  }
  return { width: crop, height: crop, channels: c, data: out };
}

/** Drops alpha and replicates grey to RGB (the original code feeds 3-channel tensors). */
export function toRgb(image: RawImage): Uint8Array {
  const n = image.width * image.height;
  const c = image.channels;
  if (c === 3) return image.data;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    if (c === 4) {
      out[i * 3] = image.data[i * 4];
      out[i * 3 + 1] = image.data[i * 4 + 1];
      out[i * 3 + 2] = image.data[i * 4 + 2];
    } else {
      const v = image.data[i * c];
      out[i * 3] = v;
      out[i * 3 + 1] = v;
      out[i * 3 + 2] = v;
    }
  }
  return out;
}

/**
 * Resize to `resize`×`resize` (antialiased bilinear), centre crop `crop`×`crop`, return RGB HWC uint8.
 *
 * @example
 * ```ts
 * const pixels = await preprocessImage(await decodeImage(path), 550, 512); // 512*512*3 bytes
 * ```
 */
export async function preprocessImage(image: RawImage, resize: number, crop: number): Promise<Uint8Array> {
  checkSizes(resize, crop);
  const resized = await resizeRaw(image, resize, "linear");
  return toRgb(cropCentre(resized, crop));
}

/**
 * The mask through the same resize and crop, then binarised: 1 where the (first channel of the) resized
 * mask is `> 0`. With `bilinearAnyPositive` a defect pixel's footprint grows by the filter's support, as
 * in the original code; `nearest` keeps it sharp.
 */
export async function preprocessMask(
  mask: RawImage,
  resize: number,
  crop: number,
  mode: MaskResize = "bilinearAnyPositive",
): Promise<Uint8Array> {
  checkSizes(resize, crop);
  const n = mask.width * mask.height;
  const grey = new Uint8Array(n);
  for (let i = 0; i < n; i++) grey[i] = mask.data[i * mask.channels];
  const resized = await resizeRaw(
    { width: mask.width, height: mask.height, channels: 1, data: grey },
    resize,
    mode === "nearest" ? "nearest" : "linear",
  );
  const cropped = cropCentre(resized, crop);
  const out = new Uint8Array(crop * crop);
  for (let i = 0; i < out.length; i++) out[i] = cropped.data[i * cropped.channels] > 0 ? 1 : 0;
  return out;
}
