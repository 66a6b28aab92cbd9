/**
 * The one in-memory form of a stored weight tensor, shared by the PyTorch `.pt` reader/writer and the
 * safetensors reader/writer: a dtype (safetensors' names), a shape and the row-major little-endian bytes.
 * Conversions to and from float32 live here too, so a format module only moves bytes.
 *
 * @module
 */

/** Element types a weight file may hold (the safetensors spelling; PyTorch storages map onto these). */
export const WEIGHT_DTYPES = ["F64", "F32", "F16", "BF16", "I64", "I32", "I16", "I8", "U8", "BOOL"] as const;

/** One element type of {@linkcode WEIGHT_DTYPES}. */
export type WeightDtype = typeof WEIGHT_DTYPES[number];

/** Bytes per element of each dtype. */
export const DTYPE_SIZE: Readonly<Record<WeightDtype, number>> = {
  F64: 8,
  F32: 4,
  F16: 2,
  BF16: 2,
  I64: 8,
  I32: 4,
  I16: 2,
  I8: 1,
  U8: 1,
  BOOL: 1,
};

/** A dense tensor as stored: row-major, little-endian, `data.length === elementCount(shape) · size`. */
export interface WeightTensor {
  dtype: WeightDtype;
  shape: number[];
  data: Uint8Array;
}

/** A model parameter's values in the harness layout: row-major float32 of the shape the model declares. */
export interface ParameterValues {
  shape: number[];
  values: Float32Array;
}

/** A named collection of tensors in file order (a PyTorch state_dict, a safetensors file). */
export type WeightMap = Map<string, WeightTensor>;

/** A weight file is not readable: damaged, truncated, refused, or inconsistent with what it claims. */
export class WeightFileError extends Error {
  override name = "WeightFileError";
}

/** Whether `value` is one of {@linkcode WEIGHT_DTYPES}. */
export function isWeightDtype(value: unknown): value is WeightDtype {
  return typeof value === "string" && (WEIGHT_DTYPES as readonly string[]).includes(value);
}

/** Number of elements of a shape (1 for a scalar `[]`). */
export function elementCount(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** `(1, 65, 512)`: a shape as PyTorch prints it, for error messages. */
export function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(", ")})`;
}

/**
 * Wraps float32 values as a {@linkcode WeightTensor} (no copy when `values` spans its whole buffer).
 *
 * @example
 * ```ts
 * const t = float32Tensor([2, 2], new Float32Array([1, 2, 3, 4]));
 * t.data.length; // 16
 * ```
 */
export function float32Tensor(shape: number[], values: Float32Array): WeightTensor {
  if (values.length !== elementCount(shape)) {
    throw new RangeError(`float32Tensor: ${values.length} values do not fill shape ${formatShape(shape)}`);
  }
  return { dtype: "F32", shape, data: new Uint8Array(values.buffer, values.byteOffset, values.byteLength) };
}

/** IEEE half → float (subnormals, infinities and NaN included). */
function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/**
 * The values of a tensor as float32 (a zero-copy view for aligned F32 data). F64 and the integer types are
 * rounded to the nearest float32; F16/BF16 widen exactly.
 *
 * @example
 * ```ts
 * toFloat32(float32Tensor([1], Float32Array.of(0.5)))[0]; // 0.5
 * ```
 */
export function toFloat32(tensor: WeightTensor): Float32Array {
  const n = elementCount(tensor.shape);
  const bytes = tensor.data;
  if (bytes.length !== n * DTYPE_SIZE[tensor.dtype]) {
    throw new RangeError(
      `tensor of shape ${
        formatShape(tensor.shape)
      } and dtype ${tensor.dtype} has ${bytes.length} bytes, expected ${n * DTYPE_SIZE[tensor.dtype]}`,
    );
  }
  if (tensor.dtype === "F32") {
    const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
    return new Float32Array(aligned.buffer, aligned.byteOffset, n);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Float32Array(n);
  const bits = new Uint32Array(out.buffer); // BF16 is the top half of a float32
  for (let i = 0; i < n; i++) {
    switch (tensor.dtype) {
      case "F64":
        out[i] = view.getFloat64(8 * i, true);
        break;
      case "F16":
        out[i] = halfToFloat(view.getUint16(2 * i, true));
        break;
      case "BF16":
        bits[i] = view.getUint16(2 * i, true) << 16;
        break;
      case "I64":
        out[i] = Number(view.getBigInt64(8 * i, true));
        break;
      case "I32":
        out[i] = view.getInt32(4 * i, true);
        break;
      case "I16":
        out[i] = view.getInt16(2 * i, true);
        break;
      case "I8":
        out[i] = view.getInt8(i);
        break;
      case "U8":
      case "BOOL":
        out[i] = bytes[i];
        break;
    }
  }
  return out;
}
