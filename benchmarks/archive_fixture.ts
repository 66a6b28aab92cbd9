/**
 * A tar.xz of image-like bytes for throughput measurements (`datasets_bench.ts`, the nightly run): gradients
 * with a little noise, which xz compresses about as well as real image datasets.
 *
 * @module
 */
import { XzCompressor } from "@napi-rs/lzma";
import { deterministicTar } from "../src/datasets/synthetic.ts";

const MB = 1_000_000;

/**
 * `count` files of 1 MB each, `<folder>/000.raw` …, and their deterministic tar compressed with xz.
 *
 * @example
 * ```ts
 * const { tar, xz } = await imageLikeTarXz(40, "big");
 * ```
 */
export async function imageLikeTarXz(
  count: number,
  folder: string,
  { preset = 1 }: { preset?: number } = {},
): Promise<{ tar: Uint8Array; xz: Uint8Array }> {
  const files = new Map<string, Uint8Array>();
  for (let f = 0; f < count; f++) {
    const bytes = new Uint8Array(MB);
    let x = f + 1;
    for (let i = 0; i < MB; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = ((i >> 4) & 0xff) + ((x >>> 29) & 3);
    }
    files.set(`${folder}/${String(f).padStart(3, "0")}.raw`, bytes);
  }
  const tar = await deterministicTar(files);
  const compressor = new XzCompressor({ preset });
  const parts = [compressor.update(tar), await compressor.finish()];
  return { tar, xz: new Uint8Array(await new Blob(parts as BlobPart[]).arrayBuffer()) };
}
