/**
 * NumPy `.npy` files of float32 or float64 arrays, read and written in one place (format versions 1–3 on
 * read, version 1 on write; NEP 1 / `numpy.lib.format`): magic `\x93NUMPY`, version bytes, a little-endian
 * header length, a Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (…), }` padded
 * with spaces to a multiple of 64 bytes and ending in a newline, then the C-order data.
 *
 * @module
 */
import { writeFileAtomic } from "./atomic_write.ts";

/** A dense float array with its shape (row-major). */
export interface NpyArray {
  shape: number[];
  data: Float32Array | Float64Array;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

/**
 * Parses a `.npy` file holding a little-endian float32 (`<f4`) or float64 (`<f8`) array in C order, of any
 * rank. Rejects other dtypes, Fortran order, malformed headers and truncated data with one line naming
 * the file. The data are copied, so the result is aligned and owns its memory.
 *
 * @example
 * ```ts
 * const { shape, data } = parseNpyArray(await Deno.readFile("X.npy"), "X.npy"); // e.g. [4, 512, 512, 3]
 * ```
 */
export function parseNpyArray(bytes: Uint8Array, name: string): NpyArray {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new Error(`${name}: not a .npy file (missing \\x93NUMPY magic)`);
  }
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number, headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${name}: truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else throw new Error(`${name}: unsupported .npy format version ${major}`);
  const header = new TextDecoder(major === 3 ? "utf-8" : "latin1").decode(
    bytes.subarray(headerStart, headerStart + headerLength),
  );
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${name}: malformed .npy header: ${header.trim()}`);
  }
  if (descr !== "<f4" && descr !== "<f8") {
    throw new Error(
      `${name}: dtype '${descr}' is not supported; save the array as little-endian float32 ('<f4') or float64 ('<f8')`,
    );
  }
  if (fortran === "True") {
    throw new Error(`${name}: Fortran-order array; save it in C order (np.ascontiguousarray) first`);
  }
  const shape = shapeText.split(",").map((s) => s.trim()).filter((s) => s !== "").map(Number);
  if (shape.some((d) => !Number.isSafeInteger(d) || d < 0)) {
    throw new Error(`${name}: malformed shape (${shapeText})`);
  }
  const itemSize = descr === "<f4" ? 4 : 8;
  const count = shape.reduce((a, b) => a * b, 1);
  const start = headerStart + headerLength;
  const byteLength = count * itemSize;
  if (bytes.length - start < byteLength) {
    throw new Error(
      `${name}: truncated: ${bytes.length - start} data bytes, expected ${byteLength} for shape (${
        shape.join(", ")
      })`,
    );
  }
  const buffer = bytes.slice(start, start + byteLength).buffer;
  return { shape, data: itemSize === 4 ? new Float32Array(buffer) : new Float64Array(buffer) };
}

/**
 * Encodes a float32/float64 array as a version-1.0 `.npy` file (what `np.save` writes for it).
 *
 * @example
 * ```ts
 * const bytes = encodeNpyArray({ shape: [2], data: Float64Array.of(0.5, 1) });
 * ```
 */
export function encodeNpyArray(array: NpyArray): Uint8Array {
  const count = array.shape.reduce((a, b) => a * b, 1);
  if (count !== array.data.length) {
    throw new RangeError(
      `encodeNpyArray: ${array.data.length} values do not fill shape (${array.shape.join(", ")})`,
    );
  }
  const descr = array.data instanceof Float32Array ? "<f4" : "<f8";
  const shape = array.shape.length === 1 ? `(${array.shape[0]},)` : `(${array.shape.join(", ")})`;
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += " ".repeat((64 - ((10 + header.length + 1) % 64)) % 64) + "\n";
  const head = new TextEncoder().encode(header);
  if (head.length > 0xffff) throw new RangeError("encodeNpyArray: shape too long for a version-1 header");
  const out = new Uint8Array(10 + head.length + array.data.byteLength);
  out.set([...MAGIC, 1, 0]);
  new DataView(out.buffer).setUint16(8, head.length, true);
  out.set(head, 10);
  out.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + head.length);
  return out;
}

/** Reads a `.npy` file (see {@linkcode parseNpyArray}). */
export async function readNpy(path: string): Promise<NpyArray> {
  return parseNpyArray(await Deno.readFile(path), path);
}

/** Writes a `.npy` file atomically (see {@linkcode encodeNpyArray}). */
export async function writeNpy(path: string, array: NpyArray): Promise<void> {
  await writeFileAtomic(path, encodeNpyArray(array));
}
