/**
 * PyTorch state_dict files (`torch.save(module.state_dict(), path)`, the zip format of PyTorch ≥ 1.6),
 * read and written without Python.
 *
 * The container is a stored zip archive with one top folder `<name>/` holding `data.pkl` (a pickle of a
 * `collections.OrderedDict`), `data/<key>` (the raw bytes of each storage), `version` and, in newer
 * releases, `byteorder`. Each tensor in the pickle is `torch._utils._rebuild_tensor_v2(storage,
 * storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`, and each storage a persistent
 * id `('storage', torch.<Type>Storage, key, location, numel)` naming `data/<key>`
 * (`docs/original-code.md` §12). Files saved on a GPU carry `cuda:0` as the location; the bytes are the same.
 *
 * The pickle runs in {@linkcode restrictedUnpickle} with exactly the globals above: a file naming any other
 * global is refused with an error, and nothing in it is executed.
 *
 * @module
 */
import { unzipSync, zipSync } from "fflate";
import {
  type GlobalHandler,
  PickleError,
  PickleGlobal,
  PickleTuple,
  type PickleValue,
  restrictedUnpickle,
} from "./pickle.ts";
import {
  DTYPE_SIZE,
  elementCount,
  formatShape,
  type WeightDtype,
  WeightFileError,
  type WeightMap,
  type WeightTensor,
} from "./tensor.ts";

/** `torch.<Name>Storage` ↔ dtype, the storage types a state_dict can name. */
const STORAGE_DTYPES: Readonly<Record<string, WeightDtype>> = {
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
};

/** A storage the pickle refers to, with its bytes from `data/<key>`. */
interface StorageRef {
  dtype: WeightDtype;
  key: string;
  numel: number;
  bytes: Uint8Array;
}

/** What `_rebuild_tensor_v2` returns before materialisation. */
class TensorRef {
  constructor(
    readonly storage: StorageRef,
    readonly offset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

const PK_LOCAL_HEADER = [0x50, 0x4b, 0x03, 0x04];

function isNonNegativeInt(v: PickleValue): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function intTuple(v: PickleValue, what: string, source: string): number[] {
  if (!(v instanceof PickleTuple) || !v.items.every(isNonNegativeInt)) {
    throw new WeightFileError(`${source}: ${what} is not a tuple of non-negative integers`);
  }
  return v.items as number[];
}

/**
 * Reads a PyTorch zip-format state_dict into tensors in file order (contiguous, little-endian, as
 * stored: float32 weights stay F32, `num_batches_tracked` is I64). Refuses, with one line naming the
 * problem: a file that is not a complete zip archive (truncated or damaged), the legacy pre-1.6 format,
 * any pickle global other than `collections.OrderedDict`, `torch._utils._rebuild_tensor_v2`,
 * `torch._utils._rebuild_parameter` and `torch.<Type>Storage`, a storage whose bytes are missing or
 * shorter than the elements its tensor reads, and a top-level value that is not a dict of tensors.
 *
 * @example
 * ```ts
 * const sd = readTorchStateDict(await Deno.readFile("VT_AE_Mvtech_cable.pt"), "VT_AE_Mvtech_cable.pt");
 * sd.get("vt.pos_embedding")!.shape; // [1, 65, 512]
 * ```
 */
export function readTorchStateDict(bytes: Uint8Array, source: string): WeightMap {
  if (!PK_LOCAL_HEADER.every((b, i) => bytes[i] === b)) {
    const legacy = bytes[0] === 0x80; // a bare pickle: the format of torch.save before PyTorch 1.6
    throw new WeightFileError(
      legacy
        ? `${source}: legacy (PyTorch < 1.6) serialization, which is a sequence of pickles; load it with PyTorch and save it again with PyTorch ≥ 1.6 (zip format) or as safetensors`
        : `${source}: not a PyTorch state_dict file (no zip header); expected a file written by torch.save`,
    );
  }
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes);
  } catch (error) {
    throw new WeightFileError(
      `${source}: not a complete zip archive (${
        error instanceof Error ? error.message : error
      }); the file is truncated or damaged — copy it again`,
    );
  }
  const pickles = Object.keys(entries).filter((n) => n === "data.pkl" || n.endsWith("/data.pkl"));
  if (pickles.length !== 1) {
    throw new WeightFileError(
      `${source}: expected one <name>/data.pkl in the archive, found ${pickles.length}; not a torch.save file`,
    );
  }
  const prefix = pickles[0].slice(0, -"data.pkl".length);
  const byteorder = entries[`${prefix}byteorder`];
  const bigEndian = byteorder !== undefined && new TextDecoder().decode(byteorder).trim() === "big";
  const storages = new Map<string, StorageRef>();
  const pklSource = `${source}:${pickles[0]}`;

  const globals = new Map<string, GlobalHandler>();
  const buildState = (value: PickleValue, state: PickleValue): PickleValue => {
    // OrderedDict.__reduce__ puts vars(od) here: {'_metadata': OrderedDict of module versions}. Data only.
    if (!(state instanceof Map) && state !== null) {
      throw new WeightFileError(`${pklSource}: OrderedDict state is not a dict`);
    }
    return value;
  };
  globals.set("collections.OrderedDict", {
    call: (args) => {
      const d = new Map<PickleValue, PickleValue>();
      if (args.length === 0) return d;
      if (args.length === 1 && Array.isArray(args[0])) {
        for (const pair of args[0]) {
          if (!(pair instanceof PickleTuple) || pair.items.length !== 2) {
            throw new WeightFileError(`${pklSource}: OrderedDict items are not (key, value) pairs`);
          }
          d.set(pair.items[0], pair.items[1]);
        }
        return d;
      }
      throw new WeightFileError(`${pklSource}: OrderedDict called with unexpected arguments`);
    },
    build: buildState,
  });
  globals.set("torch._utils._rebuild_tensor_v2", {
    call: (args) => {
      // (storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
      if (args.length < 4 || args.length > 7) {
        throw new WeightFileError(`${pklSource}: _rebuild_tensor_v2 called with ${args.length} arguments`);
      }
      const [storage, offset, size, stride] = args;
      if (!(storage instanceof Object) || !("numel" in storage) || !isNonNegativeInt(offset)) {
        throw new WeightFileError(`${pklSource}: _rebuild_tensor_v2 without a storage and an offset`);
      }
      const shape = intTuple(size, "a tensor size", pklSource);
      const strides = intTuple(stride, "a tensor stride", pklSource);
      if (shape.length !== strides.length) {
        throw new WeightFileError(
          `${pklSource}: a tensor has ${shape.length} sizes but ${strides.length} strides`,
        );
      }
      return new TensorRef(storage as StorageRef, offset as number, shape, strides);
    },
  });
  globals.set("torch._utils._rebuild_parameter", {
    call: (args) => {
      if (!(args[0] instanceof TensorRef)) {
        throw new WeightFileError(`${pklSource}: _rebuild_parameter without a tensor`);
      }
      return args[0];
    },
  });
  for (const name of Object.keys(STORAGE_DTYPES)) globals.set(`torch.${name}`, {});

  const persistentLoad = (pid: PickleValue): PickleValue => {
    if (!(pid instanceof PickleTuple) || pid.items[0] !== "storage" || pid.items.length !== 5) {
      throw new WeightFileError(
        `${pklSource}: a persistent id is not ('storage', type, key, location, numel)`,
      );
    }
    const [, type, key, , numel] = pid.items;
    if (!(type instanceof PickleGlobal) || !(type.name in STORAGE_DTYPES)) {
      throw new WeightFileError(`${pklSource}: a storage type is not one of torch.<Type>Storage`);
    }
    if (typeof key !== "string" || !isNonNegativeInt(numel)) {
      throw new WeightFileError(`${pklSource}: a storage key or element count is malformed`);
    }
    const cached = storages.get(key);
    if (cached) return cached;
    const dtype = STORAGE_DTYPES[type.name];
    const data = entries[`${prefix}data/${key}`];
    if (data === undefined) {
      throw new WeightFileError(`${source}: storage ${prefix}data/${key} is missing from the archive`);
    }
    const expected = (numel as number) * DTYPE_SIZE[dtype];
    if (data.length < expected) {
      throw new WeightFileError(
        `${source}: storage ${prefix}data/${key} holds ${data.length} bytes, but its header says ${numel} ${dtype} elements (${expected} bytes); the file is damaged`,
      );
    }
    const ref: StorageRef = { dtype, key, numel: numel as number, bytes: data };
    storages.set(key, ref);
    return ref;
  };

  let root: PickleValue;
  try {
    root = restrictedUnpickle(entries[pickles[0]], { globals, persistentLoad, source: pklSource });
  } catch (error) {
    if (error instanceof PickleError) throw new WeightFileError(error.message);
    throw error;
  }
  if (!(root instanceof Map)) {
    throw new WeightFileError(`${source}: the pickled object is not a dict; expected a state_dict`);
  }
  const out: WeightMap = new Map();
  for (const [key, value] of root) {
    if (typeof key !== "string") throw new WeightFileError(`${source}: a state_dict key is not a string`);
    if (!(value instanceof TensorRef)) {
      throw new WeightFileError(
        `${source}: entry '${key}' is not a tensor; expected a plain state_dict (torch.save(model.state_dict(), path)), not a checkpoint dict`,
      );
    }
    out.set(key, materialise(value, key, source, bigEndian));
  }
  return out;
}

/** Gathers a strided view of a storage into contiguous little-endian bytes, checking its extent. */
function materialise(t: TensorRef, key: string, source: string, bigEndian: boolean): WeightTensor {
  const size = DTYPE_SIZE[t.storage.dtype];
  const n = elementCount(t.shape);
  let last = t.offset; // highest element index the view reads
  for (let d = 0; d < t.shape.length; d++) if (t.shape[d] > 0) last += (t.shape[d] - 1) * t.stride[d];
  if (n > 0 && last >= t.storage.numel) {
    throw new WeightFileError(
      `${source}: tensor '${key}' ${
        formatShape(t.shape)
      } reads storage element ${last}, but storage data/${t.storage.key} holds ${t.storage.numel}; the storage is shorter than its tensor`,
    );
  }
  const src = t.storage.bytes;
  let data: Uint8Array;
  let contiguous = true;
  for (let d = t.shape.length - 1, expect = 1; d >= 0; d--) {
    if (t.shape[d] !== 1 && t.stride[d] !== expect) contiguous = false;
    expect *= t.shape[d];
  }
  if (contiguous) {
    data = src.subarray(t.offset * size, (t.offset + n) * size);
  } else {
    data = new Uint8Array(n * size);
    const index = new Array<number>(t.shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let at = t.offset;
      for (let d = 0; d < index.length; d++) at += index[d] * t.stride[d];
      data.set(src.subarray(at * size, (at + 1) * size), i * size);
      for (let d = index.length - 1; d >= 0; d--) {
        if (++index[d] < t.shape[d]) break;
        index[d] = 0;
      }
    }
  }
  if (bigEndian && size > 1) {
    data = data.slice();
    for (let i = 0; i < data.length; i += size) data.subarray(i, i + size).reverse();
  }
  return { dtype: t.storage.dtype, shape: t.shape, data };
}

/** Options of {@linkcode encodeTorchStateDict}. */
export interface TorchEncodeOptions {
  /** Top folder inside the zip; PyTorch uses the file name without its extension. Default `archive`. */
  archiveName?: string;
}

/** Pickle writer for the protocol-2 subset `torch.save` emits for a state_dict. */
class PickleWriter {
  readonly #chunks: number[] = [];
  op(...codes: number[]): this {
    this.#chunks.push(...codes);
    return this;
  }
  int(v: number): this {
    if (!Number.isInteger(v) || v < 0) {
      throw new RangeError(`pickle writer: ${v} is not a non-negative integer`);
    }
    if (v < 0x100) return this.op(0x4b, v); // BININT1
    if (v < 0x10000) return this.op(0x4d, v & 0xff, v >> 8); // BININT2
    if (v < 0x80000000) return this.op(0x4a, v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, v >>> 24); // BININT
    const bytes: number[] = []; // LONG1: little-endian two's complement, with a sign byte if needed
    for (let x = BigInt(v); x > 0n; x >>= 8n) bytes.push(Number(x & 0xffn));
    if (bytes[bytes.length - 1] & 0x80) bytes.push(0);
    return this.op(0x8a, bytes.length, ...bytes);
  }
  str(s: string): this {
    const b = new TextEncoder().encode(s);
    return this.op(
      0x58,
      b.length & 0xff,
      (b.length >> 8) & 0xff,
      (b.length >> 16) & 0xff,
      b.length >>> 24,
      ...b,
    );
  }
  global(module: string, name: string): this {
    return this.op(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }
  tuple(values: number[]): this {
    this.op(0x28); // MARK
    for (const v of values) this.int(v);
    return this.op(0x74); // TUPLE
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.#chunks);
  }
}

const DTYPE_STORAGE = Object.fromEntries(Object.entries(STORAGE_DTYPES).map(([k, v]) => [v, k])) as Record<
  WeightDtype,
  string
>;

/**
 * Encodes tensors as a PyTorch zip-format state_dict that `torch.load` (and `load_state_dict`) reads: one
 * storage per tensor, contiguous, location `cpu`, protocol-2 pickle of an `OrderedDict` in map order.
 *
 * @example
 * ```ts
 * const bytes = encodeTorchStateDict(new Map([["w", float32Tensor([2], Float32Array.of(1, 2))]]));
 * ```
 */
export function encodeTorchStateDict(tensors: WeightMap, options: TorchEncodeOptions = {}): Uint8Array {
  const { archiveName = "archive" } = options;
  const w = new PickleWriter();
  w.op(0x80, 2); // PROTO 2
  w.global("collections", "OrderedDict").op(0x29, 0x52); // OrderedDict()
  w.op(0x28); // MARK for SETITEMS
  const files: Record<string, Uint8Array> = {};
  let index = 0;
  for (const [name, t] of tensors) {
    const n = elementCount(t.shape);
    if (t.data.length !== n * DTYPE_SIZE[t.dtype]) {
      throw new RangeError(
        `encodeTorchStateDict: '${name}' has ${t.data.length} bytes for ${formatShape(t.shape)}`,
      );
    }
    const key = String(index++);
    const strides: number[] = [];
    for (let d = t.shape.length - 1, s = 1; d >= 0; d--) {
      strides.unshift(s);
      s *= t.shape[d];
    }
    w.str(name);
    w.global("torch._utils", "_rebuild_tensor_v2").op(0x28); // MARK for the argument tuple
    w.op(0x28).str("storage").global("torch", DTYPE_STORAGE[t.dtype]).str(key).str("cpu").int(n).op(0x74);
    w.op(0x51); // BINPERSID
    w.int(0).tuple(t.shape).tuple(strides).op(0x89); // offset, size, stride, requires_grad=False
    w.global("collections", "OrderedDict").op(0x29, 0x52); // backward_hooks = OrderedDict()
    w.op(0x74, 0x52); // TUPLE, REDUCE
    files[`${archiveName}/data/${key}`] = t.data;
  }
  w.op(0x75, 0x2e); // SETITEMS, STOP
  return zipSync(
    {
      [`${archiveName}/data.pkl`]: w.bytes(),
      [`${archiveName}/byteorder`]: new TextEncoder().encode("little"),
      ...files,
      [`${archiveName}/version`]: new TextEncoder().encode("3\n"),
    },
    { level: 0 },
  );
}
