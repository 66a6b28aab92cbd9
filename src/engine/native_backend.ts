/**
 * The `onnxruntime` tfjs backend: tfjs-backend-cpu's tensor storage and all of its kernels, with the
 * expensive ones replaced by onnxruntime graphs ({@linkcode OrtKernels}) running on its vectorised MLAS CPU
 * kernels over one shared thread pool: convolutions and their gradients, depthwise convolutions, matrix
 * products, and elementwise operations, reductions, softmax and layout changes on tensors large enough to
 * be worth a native call ({@linkcode NATIVE_MIN_ELEMENTS}).
 *
 * Models, trainer and checkpoints are unchanged: they call tfjs ops and tfjs dispatches to these kernels.
 * An overridden kernel falls back to the cpu implementation for what the engine does not cover (NCHW data
 * format, non-float32 tensors, small tensors).
 *
 * Memory: freed output arrays are kept in a pool and reused for outputs of the same length. On the VMs
 * this project runs on, touching fresh memory costs ~4 ms per MiB (page faults under nested
 * virtualisation), more than the arithmetic of most kernels; PyTorch's CPU allocator reuses memory the
 * same way. An array is pooled only while nothing outside the backend can see it: arrays handed out by
 * `read`/`readSync` and arrays that a fallback kernel returned a view of are never recycled.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { MathBackendCPU } from "@tensorflow/tfjs-backend-cpu";
import { type ConvGeometry, floatInfo, type HostTensor, OrtKernels, sizeOf } from "./ort_kernels.ts";
import { OnnxType } from "./onnx_model.ts";
import { ELEMENTWISE, type OpBuilder, reducedShape, REDUCTIONS } from "./ort_ops.ts";
import type { OrtRuntime } from "./ort_ffi.ts";
import { type AdamArrays, type AdamCoefficients, ortAdamStep } from "./ort_adam.ts";

/** tfjs backend name of the engine. */
export const ORT_BACKEND_NAME = "onnxruntime";

/** Elementwise and layout kernels run natively from this many elements on (smaller: JavaScript). */
export const NATIVE_MIN_ELEMENTS = 4096;
/**
 * Broadcasting ops, reductions and softmax go native from this size already: tfjs-cpu's generic path
 * for them converts every index to coordinates and back (~100 ns per element against ~15 µs for a call).
 */
export const NATIVE_MIN_BROADCAST_ELEMENTS = 256;
/** Arrays shorter than this are not pooled (fresh small allocations are cheap). */
const POOL_MIN_ELEMENTS = 16384;
/** Upper bound on the bytes the pool keeps; beyond it freed arrays go to the garbage collector. */
const POOL_MAX_BYTES = 2 * 2 ** 30;

/**
 * Size class of an array of `length` elements: `length` rounded up to m·2^k with m ∈ [8, 16), so a freed
 * array serves any request within 12.5 % below its size (exact lengths alone rarely recur across ops).
 */
export function sizeClass(length: number): number {
  if (length <= 16) return length;
  const shift = Math.floor(Math.log2(length)) - 3;
  const unit = 2 ** shift;
  return Math.ceil(length / unit) * unit;
}

/** The largest size class an array of `capacity` elements can serve. */
function floorClass(capacity: number): number {
  if (capacity <= 16) return capacity;
  const shift = Math.floor(Math.log2(capacity)) - 3;
  const unit = 2 ** shift;
  return Math.floor(capacity / unit) * unit;
}

/**
 * Recycles float32 buffers by size class; a request gets a view of `length` elements at the start of a
 * pooled buffer. Ownership is tracked per ArrayBuffer.
 */
class ArrayPool {
  /** Bytes allocated fresh, reused from the pool, adopted from cpu kernels, dropped (diagnostics). */
  readonly stats = {
    freshBytes: 0,
    reusedBytes: 0,
    droppedBytes: 0,
    adoptedBytes: 0,
    inUseBytes: 0,
    peakInUseBytes: 0,
  };
  readonly #free = new Map<number, ArrayBuffer[]>();
  /** Buffers the pool handed out (or adopted) that may come back; a WeakSet, so none is kept alive. */
  readonly #owned = new WeakSet<ArrayBuffer>();
  #bytes = 0;
  readonly #maxBytes: number;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  allocate(length: number): Float32Array {
    if (length < POOL_MIN_ELEMENTS) return new Float32Array(length);
    const cls = sizeClass(length);
    const reused = this.#take(cls);
    this.#use(reused?.byteLength ?? cls * 4);
    if (reused) {
      this.stats.reusedBytes += reused.byteLength;
      this.#bytes -= reused.byteLength;
      this.#owned.add(reused);
      return new Float32Array(reused, 0, length);
    }
    const buffer = new ArrayBuffer(cls * 4);
    this.stats.freshBytes += buffer.byteLength;
    this.#owned.add(buffer);
    return new Float32Array(buffer, 0, length);
  }

  /**
   * A free buffer of class `cls`, else of the smallest larger class up to 2 × `cls` (a view of its start
   * serves the request): freed buffers rarely match later requests exactly, and fresh memory is what
   * costs here.
   */
  #take(cls: number): ArrayBuffer | undefined {
    const exact = this.#free.get(cls)?.pop();
    if (exact) return exact;
    let best: number | undefined;
    for (const [size, list] of this.#free) {
      if (list.length > 0 && size > cls && size <= 2 * cls && (best === undefined || size < best)) {
        best = size;
      }
    }
    return best === undefined ? undefined : this.#free.get(best)!.pop();
  }

  #use(bytes: number): void {
    this.stats.inUseBytes += bytes;
    this.stats.peakInUseBytes = Math.max(this.stats.peakInUseBytes, this.stats.inUseBytes);
  }

  /** Marks an array created by a cpu kernel as recyclable (when it is a whole buffer of its own). */
  adopt(values: unknown): void {
    if (
      values instanceof Float32Array && values.length >= POOL_MIN_ELEMENTS && values.byteOffset === 0 &&
      values.byteLength === values.buffer.byteLength
    ) {
      this.#owned.add(values.buffer as ArrayBuffer);
      this.stats.adoptedBytes += values.byteLength;
      this.#use(values.byteLength);
    }
  }

  /** Whether `values` is a pool array nothing outside the backend can see. */
  owns(values: unknown): boolean {
    return values instanceof Float32Array && this.#owned.has(values.buffer as ArrayBuffer);
  }

  /** Never recycles this array's buffer (it is visible outside the backend). */
  escape(values: unknown): void {
    if (ArrayBuffer.isView(values) && this.#owned.delete(values.buffer as ArrayBuffer)) {
      this.stats.inUseBytes -= values.buffer.byteLength;
    }
  }

  release(values: unknown): void {
    if (!this.owns(values)) return;
    const buffer = (values as Float32Array).buffer as ArrayBuffer;
    this.#owned.delete(buffer);
    this.stats.inUseBytes -= buffer.byteLength;
    if (this.#bytes + buffer.byteLength > this.#maxBytes) {
      this.stats.droppedBytes += buffer.byteLength;
      return;
    }
    const cls = floorClass(buffer.byteLength / 4);
    let list = this.#free.get(cls);
    if (!list) this.#free.set(cls, list = []);
    list.push(buffer);
    this.#bytes += buffer.byteLength;
  }

  clear(): void {
    this.#free.clear();
    this.#bytes = 0;
  }
}

/** MathBackendCPU whose expensive kernels run in onnxruntime. */
export class OrtBackend extends MathBackendCPU {
  readonly kernels: OrtKernels;
  readonly #pool = new ArrayPool(POOL_MAX_BYTES);
  /** > 0 while a cpu kernel runs: its internal reads do not make arrays escape. */
  #kernelDepth = 0;

  /** Wraps a loaded runtime. */
  constructor(runtime: OrtRuntime) {
    super();
    this.kernels = new OrtKernels(runtime, {
      allocate: (n) => this.#pool.allocate(n),
      release: (data) => this.#pool.release(data),
    });
    // MathBackendCPU prints a "you are running in Node.js, install tfjs-node" banner on first use.
    (this as unknown as { firstUse: boolean }).firstUse = false;
  }

  /**
   * The float32 elements and shape of a tensor held by this backend. A float32 tensor made by casting a
   * bool or int32 one keeps its Uint8Array/Int32Array values in tfjs-cpu; those are converted.
   */
  host(t: tf.TensorInfo): HostTensor {
    const values = this.data.get(t.dataId).values;
    const data = values instanceof Float32Array ? values : Float32Array.from(values as Int32Array);
    return { data, shape: t.shape };
  }

  /** Pool counters: bytes allocated fresh, reused, adopted from cpu kernels, dropped (diagnostics). */
  get memoryStats(): Readonly<ArrayPool["stats"]> {
    return this.#pool.stats;
  }

  /**
   * The storage of a tensor when this backend is its only holder (one reference, a pool array nothing
   * outside has seen), so an optimiser may update it in place; null otherwise.
   */
  exclusiveFloat32(t: tf.TensorInfo): Float32Array | null {
    if (!this.data.has(t.dataId) || this.refCount(t.dataId) !== 1) return null;
    const values = this.data.get(t.dataId).values;
    return this.#pool.owns(values) ? values as Float32Array : null;
  }

  /** One Adam step over a parameter's arrays, in place (see ort_adam.ts). */
  adamStep(arrays: AdamArrays, coefficients: AdamCoefficients): void {
    ortAdamStep(this.kernels, arrays, coefficients);
  }

  /** A float32 array for a new tensor's storage, recycled from freed tensors when one of this length is free. */
  allocateFloat32(length: number): Float32Array {
    return this.#pool.allocate(length);
  }

  /** A new tensor owning `out`'s elements. */
  output(out: HostTensor): tf.TensorInfo {
    return this.makeTensorInfo(out.shape as number[], "float32", out.data);
  }

  override readSync(dataId: tf.DataId): tf.backend_util.BackendValues {
    const values = super.readSync(dataId);
    if (this.#kernelDepth === 0) this.#pool.escape(values);
    return values;
  }

  override disposeData(dataId: tf.DataId, force = false): boolean {
    // data.get() of an unknown id would ask tfjs to move it from another backend.
    const entry = this.data.has(dataId) ? this.data.get(dataId) : undefined;
    const released = super.disposeData(dataId, force);
    if (entry && !this.data.has(dataId)) this.#pool.release(entry.values);
    return released;
  }

  /**
   * Runs a cpu kernel: arrays it returns a view of stop being recycled (e.g. Slice returns a subarray of
   * its input), and its fresh outputs become recyclable.
   */
  runCpuKernel(kernel: tf.KernelFunc, args: Parameters<tf.KernelFunc>[0]): tf.TensorInfo | tf.TensorInfo[] {
    this.#kernelDepth += 1;
    let result: tf.TensorInfo | tf.TensorInfo[];
    try {
      result = kernel(args) as tf.TensorInfo | tf.TensorInfo[];
    } finally {
      this.#kernelDepth -= 1;
    }
    const inputs = Object.values(args.inputs) as tf.TensorInfo[];
    const inputBuffers = new Map<ArrayBufferLike, tf.TensorInfo>();
    for (const t of inputs) {
      const values = t && this.data.has(t.dataId) ? this.data.get(t.dataId).values : null;
      if (ArrayBuffer.isView(values)) inputBuffers.set(values.buffer, t);
    }
    for (const out of Array.isArray(result) ? result : [result]) {
      if (!this.data.has(out.dataId)) continue;
      const values = this.data.get(out.dataId).values;
      if (!ArrayBuffer.isView(values)) continue;
      const source = inputBuffers.get(values.buffer);
      if (source) {
        if (source.dataId !== out.dataId) this.#pool.escape(values);
      } else {
        this.#pool.adopt(values);
      }
    }
    return result;
  }

  /** Runs a one-output op graph on float32 inputs. */
  runOp(
    name: string,
    op: OpGraphFactory,
    inputs: readonly tf.TensorInfo[],
    outShape: number[],
  ): tf.TensorInfo {
    const hosts = inputs.map((t) => this.host(t));
    const graph = op.build(hosts.map((h) => h.shape));
    const out = this.kernels.runNodes(
      `${name}|${hosts.map((h) => h.shape).join(";")}|${graph.attributeKey}`,
      () => graph.nodes,
      hosts,
      outShape,
      graph.initializers,
    );
    return this.output(out);
  }

  override dispose(): void {
    this.kernels.dispose();
    this.#pool.clear();
    super.dispose();
  }
}

interface OpGraphFactory {
  build: (shapes: readonly (readonly number[])[]) => ReturnType<OpBuilder>;
}

type KernelArgs = Parameters<tf.KernelFunc>[0];
type Attrs = Record<string, unknown>;
type Override = (args: KernelArgs, backend: OrtBackend) => tf.TensorInfo | null;

function geometry(info: tf.backend_util.Conv2DInfo): ConvGeometry {
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    dilationHeight: info.dilationHeight,
    dilationWidth: info.dilationWidth,
    pad: {
      top: info.padInfo.top,
      bottom: info.padInfo.bottom,
      left: info.padInfo.left,
      right: info.padInfo.right,
    },
  };
}

type Shape4 = [number, number, number, number];
type Pad = Parameters<typeof tf.backend_util.computeConv2DInfo>[4];
type Rounding = "floor" | "round" | "ceil" | undefined;

function allFloat(inputs: readonly tf.TensorInfo[]): boolean {
  return inputs.every((t) => t.dtype === "float32");
}

/** A convolution kernel override for NHWC float32 tensors. */
function convOverride(
  names: [string, string],
  shapeOf: (inputs: Record<string, tf.TensorInfo>, attrs: Attrs) => { x: Shape4; filter: Shape4 },
  depthwise: boolean,
  run: (backend: OrtBackend, a: HostTensor, b: HostTensor, g: ConvGeometry) => HostTensor,
): Override {
  return ({ inputs, attrs }, backend) => {
    const a = attrs as Attrs;
    const ins = inputs as Record<string, tf.TensorInfo>;
    const [first, second] = [ins[names[0]], ins[names[1]]];
    if ((a.dataFormat !== undefined && a.dataFormat !== "NHWC") || !allFloat([first, second])) return null;
    const { x, filter } = shapeOf(ins, a);
    const info = tf.backend_util.computeConv2DInfo(
      x,
      filter,
      a.strides as number | [number, number],
      (a.dilations ?? 1) as number | [number, number],
      a.pad as Pad,
      a.dimRoundingMode as Rounding,
      depthwise,
    );
    return backend.output(run(backend, backend.host(first), backend.host(second), geometry(info)));
  };
}

/** Kernel overrides: each returns null to fall back to the cpu kernel. */
const OVERRIDES: Record<string, Override> = {
  Conv2D: convOverride(
    ["x", "filter"],
    (i) => ({ x: i.x.shape as Shape4, filter: i.filter.shape as Shape4 }),
    false,
    (b, x, f, g) => b.kernels.conv2d(x, f, g),
  ),
  Conv2DBackpropInput: convOverride(
    ["dy", "filter"],
    (i, a) => ({ x: a.inputShape as Shape4, filter: i.filter.shape as Shape4 }),
    false,
    (b, dy, f, g) => b.kernels.conv2dBackpropInput(dy, f, g),
  ),
  Conv2DBackpropFilter: convOverride(
    ["x", "dy"],
    (i, a) => ({ x: i.x.shape as Shape4, filter: a.filterShape as Shape4 }),
    false,
    (b, x, dy, g) => b.kernels.conv2dBackpropFilter(x, dy, g),
  ),
  DepthwiseConv2dNative: convOverride(
    ["x", "filter"],
    (i) => ({ x: i.x.shape as Shape4, filter: i.filter.shape as Shape4 }),
    true,
    (b, x, f, g) => b.kernels.depthwiseConv2d(x, f, g),
  ),
  DepthwiseConv2dNativeBackpropInput: convOverride(
    ["dy", "filter"],
    (i, a) => ({ x: a.inputShape as Shape4, filter: i.filter.shape as Shape4 }),
    true,
    (b, dy, f, g) => b.kernels.depthwiseConv2dBackpropInput(dy, f, g),
  ),
  BatchMatMul({ inputs, attrs }, backend) {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!allFloat([a, b])) return null;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    const ra = a.shape.length, rb = b.shape.length;
    const m = transposeA ? a.shape[ra - 1] : a.shape[ra - 2];
    const n = transposeB ? b.shape[rb - 2] : b.shape[rb - 1];
    const batch = tf.backend_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
    return backend.output(
      backend.kernels.batchMatMul(backend.host(a), backend.host(b), transposeA, transposeB, [...batch, m, n]),
    );
  },
  SplitV({ inputs, attrs }, backend) {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype !== "float32" || sizeOf(x.shape) < NATIVE_MIN_ELEMENTS) return null;
    const a = attrs as { numOrSizeSplits: number | number[]; axis: number };
    const axis = a.axis < 0 ? a.axis + x.shape.length : a.axis;
    const sizes = tf.backend_util.prepareSplitSize(x, a.numOrSizeSplits, axis);
    return backend.kernels.split(backend.host(x), sizes, axis).map((out) =>
      backend.output(out)
    ) as unknown as tf.TensorInfo;
  },
  Slice({ inputs, attrs }, backend) {
    const { x } = inputs as { x: tf.TensorInfo };
    const a = attrs as { begin: number | number[]; size: number | number[] };
    const [begin, size] = tf.slice_util.parseSliceParams(x, a.begin, a.size);
    // A contiguous slice is a zero-copy view in the cpu kernel; strided ones are copied here.
    if (
      x.dtype !== "float32" || sizeOf(size) < NATIVE_MIN_ELEMENTS ||
      tf.slice_util.isSliceContinous(x.shape, begin, size)
    ) {
      return null;
    }
    const axes = x.shape.map((_, i) => i);
    return backend.runOp(
      "Slice",
      {
        build: () => ({
          nodes: [{ op: "Slice", inputs: ["x0", "starts", "ends", "axes"], outputs: ["y0"] }],
          initializers: [
            { name: "starts", shape: [axes.length], int64: begin },
            { name: "ends", shape: [axes.length], int64: begin.map((b, i) => b + size[i]) },
            { name: "axes", shape: [axes.length], int64: axes },
          ],
          attributeKey: `${begin}|${size}`,
        }),
      },
      [x],
      size,
    );
  },
  Concat({ inputs, attrs }, backend) {
    const tensors = (Object.values(inputs) as tf.TensorInfo[]).filter((t) => sizeOf(t.shape) > 0);
    if (tensors.length < 2 || !allFloat(tensors)) return null;
    const rank = tensors[0].shape.length;
    const a = (attrs as { axis: number }).axis;
    const axis = a < 0 ? a + rank : a;
    const outShape = [...tensors[0].shape];
    outShape[axis] = tensors.reduce((n, t) => n + t.shape[axis], 0);
    if (sizeOf(outShape) < NATIVE_MIN_ELEMENTS) return null;
    return backend.runOp(
      "Concat",
      {
        build: (shapes) => ({
          nodes: [{
            op: "Concat",
            inputs: shapes.map((_, i) => `x${i}`),
            outputs: ["y0"],
            attributes: { axis: { int: axis } },
          }],
          attributeKey: `${axis}`,
        }),
      },
      tensors,
      outShape,
    );
  },
  PadV2({ inputs, attrs }, backend) {
    const { x } = inputs as { x: tf.TensorInfo };
    const a = attrs as { paddings: [number, number][]; constantValue: number };
    const outShape = x.shape.map((d, i) => d + a.paddings[i][0] + a.paddings[i][1]);
    if (x.dtype !== "float32" || sizeOf(outShape) < NATIVE_MIN_ELEMENTS) return null;
    return backend.runOp(
      "Pad",
      {
        build: () => ({
          nodes: [{ op: "Pad", inputs: ["x0", "pads", "value"], outputs: ["y0"] }],
          initializers: [
            {
              name: "pads",
              shape: [2 * x.shape.length],
              int64: [...a.paddings.map((p) => p[0]), ...a.paddings.map((p) => p[1])],
            },
            { name: "value", shape: [], float: [a.constantValue] },
          ],
          attributeKey: `${a.paddings}|${a.constantValue}`,
        }),
      },
      [x],
      outShape,
    );
  },
  Select({ inputs }, backend) {
    const { condition, t, e } = inputs as { condition: tf.TensorInfo; t: tf.TensorInfo; e: tf.TensorInfo };
    // tfjs's rank-1 condition picks whole rows, unlike ONNX broadcasting: only equal shapes go native.
    if (
      !allFloat([t, e]) || condition.dtype !== "bool" || sizeOf(t.shape) < NATIVE_MIN_ELEMENTS ||
      !tf.util.arraysEqual(condition.shape, t.shape) || !tf.util.arraysEqual(t.shape, e.shape)
    ) {
      return null;
    }
    const mask = backend.data.get(condition.dataId).values;
    if (!(mask instanceof Uint8Array)) return null;
    const out = { data: backend.allocateFloat32(sizeOf(t.shape)), shape: t.shape };
    backend.kernels.runInto(
      {
        key: `where|${t.shape}`,
        build: () => ({
          nodes: [{ op: "Where", inputs: ["c", "x0", "x1"], outputs: ["y0"] }],
          inputs: [
            { name: "c", type: OnnxType.bool, shape: t.shape },
            floatInfo("x0", t.shape),
            floatInfo("x1", t.shape),
          ],
          outputs: [floatInfo("y0", t.shape)],
        }),
      },
      [{ data: mask, shape: t.shape }, backend.host(t), backend.host(e)],
      [out],
    );
    return backend.output(out);
  },
  Transpose({ inputs, attrs }, backend) {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype !== "float32" || sizeOf(x.shape) < NATIVE_MIN_ELEMENTS) return null;
    const host = backend.host(x);
    const out = backend.kernels.transpose(host, (attrs as { perm: number[] }).perm);
    if (out.data !== host.data) return backend.output(out);
    // Only size-1 axes moved: a reshape of the same data, shared by reference count as tfjs's Reshape does.
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...out.shape], dtype: "float32" };
  },
  Softmax({ inputs, attrs }, backend) {
    const { logits } = inputs as { logits: tf.TensorInfo };
    if (logits.dtype !== "float32" || sizeOf(logits.shape) < NATIVE_MIN_BROADCAST_ELEMENTS) return null;
    const dim = (attrs as { dim: number }).dim;
    const axis = dim < 0 ? dim + logits.shape.length : dim;
    return backend.runOp(
      `Softmax${axis}`,
      {
        build: () => ({
          nodes: [{ op: "Softmax", inputs: ["x0"], outputs: ["y0"], attributes: { axis: { int: axis } } }],
          attributeKey: `${axis}`,
        }),
      },
      [logits],
      [...logits.shape],
    );
  },
};

for (const [name, builder] of Object.entries(ELEMENTWISE)) {
  OVERRIDES[name] = ({ inputs, attrs }, backend) => {
    const ins = Object.values(inputs) as tf.TensorInfo[];
    if (!allFloat(ins)) return null;
    const outShape = ins.reduce<number[]>(
      (shape, t) => tf.backend_util.assertAndGetBroadcastShape(shape, t.shape),
      [],
    );
    const broadcasts = ins.some((t) => !tf.util.arraysEqual(t.shape, outShape));
    if (sizeOf(outShape) < (broadcasts ? NATIVE_MIN_BROADCAST_ELEMENTS : NATIVE_MIN_ELEMENTS)) return null;
    return backend.runOp(name, { build: (shapes) => builder(shapes, attrs as Attrs) }, ins, outShape);
  };
}

for (const [name, builder] of Object.entries(REDUCTIONS)) {
  OVERRIDES[name] = ({ inputs, attrs }, backend) => {
    const { x } = inputs as { x: tf.TensorInfo };
    if (x.dtype !== "float32" || sizeOf(x.shape) < NATIVE_MIN_BROADCAST_ELEMENTS) return null;
    // tfjs names the axes `reductionIndices` for Max, `axis` for the others.
    const { axis, reductionIndices, keepDims } = attrs as {
      axis?: unknown;
      reductionIndices?: unknown;
      keepDims: boolean;
    };
    const a = { axis: name === "Max" ? reductionIndices : axis, keepDims };
    const outShape = reducedShape(x.shape, a.axis, a.keepDims);
    return backend.runOp(name, { build: (shapes) => builder(shapes, a) }, [x], outShape);
  };
}

/** Comparisons: float32 operands (broadcast), bool output stored as one byte per element, as tfjs-cpu does. */
const COMPARISONS: Record<string, string[]> = {
  Greater: ["Greater"],
  GreaterEqual: ["GreaterOrEqual"],
  Less: ["Less"],
  LessEqual: ["LessOrEqual"],
  Equal: ["Equal"],
  NotEqual: ["Equal", "Not"],
};

for (const [name, ops] of Object.entries(COMPARISONS)) {
  OVERRIDES[name] = ({ inputs }, backend) => {
    const { a, b } = inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
    if (!allFloat([a, b])) return null;
    const outShape = tf.backend_util.assertAndGetBroadcastShape(a.shape, b.shape);
    if (sizeOf(outShape) < NATIVE_MIN_ELEMENTS) return null;
    const [ha, hb] = [backend.host(a), backend.host(b)];
    const out = new Uint8Array(sizeOf(outShape));
    backend.kernels.runInto(
      {
        key: `${name}|${ha.shape};${hb.shape}`,
        build: () => ({
          nodes: ops.map((op, i) => ({
            op,
            inputs: i === 0 ? ["x0", "x1"] : [`t${i - 1}`],
            outputs: [i === ops.length - 1 ? "y0" : `t${i}`],
          })),
          inputs: [floatInfo("x0", ha.shape), floatInfo("x1", hb.shape)],
          outputs: [{ name: "y0", type: OnnxType.bool, shape: outShape }],
        }),
      },
      [ha, hb],
      [{ data: out, shape: outShape }],
    );
    return backend.makeTensorInfo(outShape, "bool", out);
  };
}

let registered = false;

/**
 * Registers the `onnxruntime` backend with tfjs (once per process): every cpu kernel, with the overrides
 * above, computing with `runtime`.
 */
export function registerOrtBackend(runtime: OrtRuntime): void {
  if (registered) return;
  registered = true;
  tf.registerBackend(ORT_BACKEND_NAME, () => new OrtBackend(runtime));
  for (const config of tf.getKernelsForBackend("cpu")) {
    const override = OVERRIDES[config.kernelName];
    const cpuKernel = config.kernelFunc;
    tf.registerKernel({
      ...config,
      backendName: ORT_BACKEND_NAME,
      kernelFunc: (args) => {
        const backend = args.backend as OrtBackend;
        return (override && override(args, backend)) ?? backend.runCpuKernel(cpuKernel, args);
      },
    });
  }
}
