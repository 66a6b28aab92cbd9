/**
 * Decodes an image file to raw 8-bit pixels: PNG, TIFF, JPEG through sharp; BMP through bmp-ts (sharp
 * cannot read BMP; BTAD products 01 and 03 are BMP). A corrupt or truncated file is an error naming it.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { decode as decodeBmpBytes } from "bmp-ts";
import sharp from "sharp";

/** Decoded pixels, row-major, interleaved channels. */
export interface RawImage {
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
  data: Uint8Array;
}

/** An image that cannot be decoded. */
export class ImageDecodeError extends Error {
  override name = "ImageDecodeError";
}

function fail(path: string, why: string): ImageDecodeError {
  return new ImageDecodeError(
    `cannot decode image ${path}: ${why} (the file is corrupt or truncated: delete the dataset folder and ` +
      `run download again)`,
  );
}

/**
 * Decodes BMP bytes (1/4/8-bit palette, 16/24/32-bit) to RGB.
 *
 * @example
 * ```ts
 * const image = decodeBmp(await Deno.readFile("0000.bmp"), "0000.bmp");
 * ```
 */
export function decodeBmp(bytes: Uint8Array, path: string): RawImage {
  if (bytes.length < 26 || bytes[0] !== 0x42 || bytes[1] !== 0x4d) {
    throw fail(path, "not a BMP file (no 'BM' header)");
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const declared = view.getUint32(2, true);
  if (declared > bytes.length) throw fail(path, `truncated: ${bytes.length} bytes, header says ${declared}`);
  let decoded;
  try {
    // bmp-ts writes ABGR for every bit depth by default; its `toRGBA` option is not applied to palette
    // images (bmp-ts 1.0.9), so read ABGR and reorder here.
    decoded = decodeBmpBytes(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  } catch (error) {
    throw fail(path, (error as Error).message);
  }
  const { width, height } = decoded;
  const abgr = decoded.data;
  if (!width || !height || abgr.length < width * height * 4) {
    throw fail(path, "pixel data shorter than the header says");
  }
  const rgb = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; j < rgb.length; i += 4, j += 3) {
    rgb[j] = abgr[i + 3];
    rgb[j + 1] = abgr[i + 2];
    rgb[j + 2] = abgr[i + 1];
  }
  return { width, height, channels: 3, data: rgb };
}

/** Is `path` a BMP file by its extension? */
export function isBmpPath(path: string): boolean {
  return /\.bmp$/i.test(path);
}

/**
 * Decodes any supported image file to 8-bit raw pixels.
 *
 * @example
 * ```ts
 * const { width, height, channels } = await decodeImage("data/mvtec/mvtec_anomaly_detection/grid/train/good/000.png");
 * ```
 */
export async function decodeImage(path: string): Promise<RawImage> {
  if (isBmpPath(path)) return decodeBmp(await Deno.readFile(path), path);
  try {
    // `error` rejects truncated and corrupt pixel data but not harmless libpng warnings (e.g. sRGB
    // profile notes), which the default `warning` would turn into failures.
    const { data, info } = await sharp(path, { failOn: "error" }).raw({ depth: "uchar" }).toBuffer({
      resolveWithObject: true,
    });
    return { width: info.width, height: info.height, channels: info.channels, data: new Uint8Array(data) };
  } catch (error) {
    throw fail(path, (error as Error).message.split("\n")[0]);
  }
}
