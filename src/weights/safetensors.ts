/**
 * safetensors files (huggingface/safetensors), read and written: the format the ecosystem uses to exchange
 * weights without pickle.
 *
 * Layout: an unsigned 64-bit little-endian header length N; N bytes of UTF-8 JSON (starting with `{`,
 * possibly padded with trailing spaces) mapping each tensor name to `{"dtype", "shape", "data_offsets":
 * [begin, end]}`, plus an optional `"__metadata__"` map of strings; then the byte buffer the offsets index,
 * row-major little-endian. As the reference implementation validates: the tensors tile the buffer exactly
 * (no gap, no overlap, nothing left over) and each range holds exactly shape × dtype-size bytes.
 *
 * @module
 */
import {
  DTYPE_SIZE,
  elementCount,
  formatShape,
  isWeightDtype,
  WEIGHT_DTYPES,
  WeightFileError,
  type WeightMap,
  type WeightTensor,
} from "./tensor.ts";

/** The reference implementation refuses headers above 100 MB. */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = "__metadata__";

/** A safetensors file in memory. */
export interface SafetensorsFile {
  /** Tensors in the header's order. */
  tensors: WeightMap;
  /** The `__metadata__` strings (empty when absent). */
  metadata: Record<string, string>;
}

/**
 * Parses a safetensors file. Tensor data are views into `bytes` (no copy). Refuses, naming the file and
 * the entry: a header length beyond the file or above 100 MB, a header that is not a JSON object, an
 * unknown dtype, a shape that is not a list of non-negative integers, offsets that do not tile the
 * buffer exactly or do not match the shape, and non-string metadata.
 *
 * @example
 * ```ts
 * const { tensors, metadata } = readSafetensors(await Deno.readFile("model.safetensors"), "model.safetensors");
 * ```
 */
export function readSafetensors(bytes: Uint8Array, source: string): SafetensorsFile {
  const fail = (what: string): never => {
    throw new WeightFileError(`${source}: ${what}`);
  };
  if (bytes.length < 8) fail(`${bytes.length} bytes: too short for a safetensors header length`);
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (headerLength > BigInt(MAX_HEADER_BYTES)) {
    fail(`header length ${headerLength} exceeds 100 MB; not a safetensors file`);
  }
  const n = Number(headerLength);
  if (8 + n > bytes.length) {
    fail(`header length ${n} runs past the end of the ${bytes.length}-byte file; the file is truncated`);
  }
  let header: unknown;
  try {
    const text = new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(8, 8 + n));
    if (!text.startsWith("{")) fail("header does not start with '{'");
    header = JSON.parse(text);
  } catch (error) {
    if (error instanceof WeightFileError) throw error;
    fail(`header is not valid UTF-8 JSON (${error instanceof Error ? error.message : error})`);
  }
  if (header === null || typeof header !== "object" || Array.isArray(header)) {
    fail("header is not a JSON object");
  }
  const buffer = bytes.subarray(8 + n);
  const metadata: Record<string, string> = {};
  const entries: { name: string; tensor: WeightTensor; begin: number; end: number }[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (info === null || typeof info !== "object" || Array.isArray(info)) {
        fail("__metadata__ is not an object");
      }
      for (const [k, v] of Object.entries(info as Record<string, unknown>)) {
        if (typeof v !== "string") fail(`__metadata__ value of '${k}' is not a string`);
        metadata[k] = v as string;
      }
      continue;
    }
    if (info === null || typeof info !== "object") fail(`entry '${name}' is not an object`);
    const { dtype, shape, data_offsets: offsets } = info as Record<string, unknown>;
    if (!isWeightDtype(dtype)) {
      fail(`entry '${name}' has dtype ${JSON.stringify(dtype)}; supported: ${WEIGHT_DTYPES.join(", ")}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`entry '${name}' has shape ${JSON.stringify(shape)}; expected a list of non-negative integers`);
    }
    if (
      !Array.isArray(offsets) || offsets.length !== 2 ||
      !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)
    ) {
      fail(`entry '${name}' has data_offsets ${JSON.stringify(offsets)}; expected [begin, end]`);
    }
    const [begin, end] = offsets as number[];
    const expected = elementCount(shape as number[]) * DTYPE_SIZE[dtype as keyof typeof DTYPE_SIZE];
    if (end < begin || end - begin !== expected) {
      fail(
        `entry '${name}' ${dtype} ${
          formatShape(shape as number[])
        } needs ${expected} bytes, its data_offsets [${begin}, ${end}] give ${end - begin}`,
      );
    }
    if (end > buffer.length) {
      fail(
        `entry '${name}' ends at byte ${end} of a ${buffer.length}-byte data buffer; the file is truncated`,
      );
    }
    entries.push({
      name,
      begin,
      end,
      tensor: {
        dtype: dtype as WeightTensor["dtype"],
        shape: shape as number[],
        data: buffer.subarray(begin, end),
      },
    });
  }
  const byOffset = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let cursor = 0;
  for (const e of byOffset) {
    if (e.begin !== cursor) {
      fail(
        e.begin < cursor
          ? `entry '${e.name}' overlaps the previous tensor (starts at ${e.begin}, previous ends at ${cursor})`
          : `bytes ${cursor}..${e.begin} of the data buffer belong to no tensor`,
      );
    }
    cursor = e.end;
  }
  if (cursor !== buffer.length) {
    fail(`${buffer.length - cursor} bytes after the last tensor belong to no tensor; the file is damaged`);
  }
  return { tensors: new Map(entries.map((e) => [e.name, e.tensor])), metadata };
}

/**
 * Encodes tensors (in map order) and optional string metadata as a safetensors file, with the header
 * padded by spaces to a multiple of 8 bytes so that the data buffer stays aligned.
 *
 * @example
 * ```ts
 * const bytes = encodeSafetensors(new Map([["w", float32Tensor([2], Float32Array.of(1, 2))]]), { format: "pt" });
 * ```
 */
export function encodeSafetensors(tensors: WeightMap, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (name === METADATA_KEY) throw new RangeError(`encodeSafetensors: '${METADATA_KEY}' is reserved`);
    const size = elementCount(t.shape) * DTYPE_SIZE[t.dtype];
    if (t.data.length !== size) {
      throw new RangeError(
        `encodeSafetensors: '${name}' has ${t.data.length} bytes for ${formatShape(t.shape)}`,
      );
    }
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
  }
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (new TextEncoder().encode(json).length % 8)) % 8);
  const head = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + head.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  let at = 8 + head.length;
  for (const t of tensors.values()) {
    out.set(t.data, at);
    at += t.data.length;
  }
  return out;
}
