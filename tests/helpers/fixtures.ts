/**
 * Test fixtures written by code: `.npy` files, PNG masks (via sharp) and a small MVTec-style tree of
 * anomaly maps and ground truth for `evaluate`.
 *
 * @module
 */
import sharp from "sharp";
import { join } from "node:path";
import { encodeFloat32Tiff } from "./float_tiff.ts";

/** Encodes a 2-D little-endian float array as a version-1 `.npy` file. */
export function encodeNpy(
  height: number,
  width: number,
  data: Float32Array | Float64Array,
  { descr = data instanceof Float32Array ? "<f4" : "<f8", fortran = false, shape = `(${height}, ${width})` } =
    {},
): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': ${fortran ? "True" : "False"}, 'shape': ${shape}, }`;
  const total = 10 + header.length + 1;
  header += " ".repeat((64 - (total % 64)) % 64) + "\n";
  const head = new TextEncoder().encode(header);
  const bytes = new Uint8Array(10 + head.length + data.byteLength);
  bytes.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(bytes.buffer).setUint16(8, head.length, true);
  bytes.set(head, 10);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + head.length);
  return bytes;
}

/** Encodes a 0/1 mask as an 8-bit greyscale PNG with values 0/255 (as MVTec masks). */
export async function encodeMaskPng(width: number, height: number, mask: Uint8Array): Promise<Uint8Array> {
  const pixels = new Uint8Array(width * height);
  for (let i = 0; i < pixels.length; i++) pixels[i] = mask[i] ? 255 : 0;
  const png = await sharp(pixels, { raw: { width, height, channels: 1 } }).png().toBuffer();
  return new Uint8Array(png);
}

/** One test image of a fixture category. */
export interface FixtureImage {
  defect: string;
  stem: string;
  map: Float32Array;
  mask?: Uint8Array | null;
  format?: "tiff" | "npy";
}

/** Writes `<root>/gt/<category>/{test,ground_truth}` and `<root>/maps/<category>/test` for the images. */
export async function writeMvtecTree(
  root: string,
  category: string,
  width: number,
  height: number,
  images: FixtureImage[],
): Promise<{ gt: string; maps: string }> {
  const gt = join(root, "gt"), maps = join(root, "maps");
  for (const img of images) {
    const testDir = join(gt, category, "test", img.defect);
    await Deno.mkdir(testDir, { recursive: true });
    await Deno.writeFile(
      join(testDir, `${img.stem}.png`),
      await encodeMaskPng(width, height, new Uint8Array(width * height)),
    );
    if (img.mask) {
      const gtDir = join(gt, category, "ground_truth", img.defect);
      await Deno.mkdir(gtDir, { recursive: true });
      await Deno.writeFile(join(gtDir, `${img.stem}_mask.png`), await encodeMaskPng(width, height, img.mask));
    }
    const mapDir = join(maps, category, "test", img.defect);
    await Deno.mkdir(mapDir, { recursive: true });
    const bytes = img.format === "npy"
      ? encodeNpy(height, width, img.map)
      : encodeFloat32Tiff(width, height, img.map);
    await Deno.writeFile(join(mapDir, `${img.stem}.${img.format ?? "tiff"}`), bytes);
  }
  return { gt, maps };
}
