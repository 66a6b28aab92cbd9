/**
 * IDX files (MNIST, Fashion-MNIST): a big-endian header — magic `0x0000 08 0D` where `0x08` = uint8 and
 * `D` = number of dimensions, then D uint32 sizes — followed by the uint8 data (docs/datasets.md §3).
 *
 * @module
 */

/** A parsed IDX array. */
export interface IdxArray {
  /** The magic number, e.g. 2051 (images) or 2049 (labels). */
  magic: number;
  /** Sizes, e.g. `[60000, 28, 28]`. */
  dims: number[];
  /** Row-major uint8 data (a view into the input). */
  data: Uint8Array;
}

/**
 * Parses IDX bytes, checking the magic number (uint8 type), the dimensions and the exact length.
 * `expected` (optional) must match the magic and dimensions.
 *
 * @example
 * ```ts
 * const labels = parseIdx(await Deno.readFile("data/mnist/t10k-labels-idx1-ubyte"), "t10k-labels", {
 *   magic: 2049, dims: [10000],
 * });
 * ```
 */
export function parseIdx(
  bytes: Uint8Array,
  name: string,
  expected?: { magic: number; dims: number[] },
): IdxArray {
  if (bytes.length < 4) throw new Error(`IDX file ${name}: ${bytes.length} bytes, too short for a header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0, false);
  const type = (magic >> 8) & 0xff;
  const rank = magic & 0xff;
  if ((magic >>> 16) !== 0 || type !== 0x08 || rank < 1) {
    throw new Error(
      `IDX file ${name}: magic 0x${magic.toString(16).padStart(8, "0")} is not an uint8 IDX header ` +
        `(expected 0x000008NN; is the file still gzip-compressed or corrupt?)`,
    );
  }
  const headerLength = 4 + 4 * rank;
  if (bytes.length < headerLength) throw new Error(`IDX file ${name}: truncated header`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const length = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== headerLength + length) {
    throw new Error(
      `IDX file ${name}: ${bytes.length - headerLength} data bytes, dims ${dims.join("×")} need ${length} ` +
        `(truncated or corrupt: download again)`,
    );
  }
  if (expected) {
    if (expected.magic !== magic || expected.dims.join("x") !== dims.join("x")) {
      throw new Error(
        `IDX file ${name}: magic ${magic} dims ${dims.join("×")}, expected magic ${expected.magic} dims ` +
          `${expected.dims.join("×")}`,
      );
    }
  }
  return { magic, dims, data: bytes.subarray(headerLength) };
}

/** Reads only the header of an IDX file (cheap layout check). */
export async function readIdxHeader(path: string): Promise<{ magic: number; dims: number[]; size: number }> {
  const file = await Deno.open(path, { read: true });
  try {
    const head = new Uint8Array(4 + 4 * 4);
    let got = 0;
    while (got < head.length) {
      const n = await file.read(head.subarray(got));
      if (n === null) break;
      got += n;
    }
    const view = new DataView(head.buffer);
    if (got < 4) throw new Error(`IDX file ${path}: too short`);
    const magic = view.getUint32(0, false);
    const rank = Math.min(magic & 0xff, 4);
    const dims: number[] = [];
    for (let i = 0; i < rank && 8 + 4 * i <= got; i++) dims.push(view.getUint32(4 + 4 * i, false));
    return { magic, dims, size: (await file.stat()).size };
  } finally {
    file.close();
  }
}
