/**
 * tfjs kernels as small onnxruntime graphs on float32 host tensors: convolutions (forward, input gradient,
 * filter gradient), depthwise convolutions, batched matrix products, and one-node graphs for elementwise
 * operations, reductions and layout changes.
 *
 * Each distinct (graph, shapes, attributes) becomes one compiled session, cached for the life of the
 * engine: training repeats the same shapes every step. Layout changes between tfjs's NHWC/HWIO and ONNX's
 * NCHW/OIHW run as their own Transpose sessions, because a Conv whose input comes from an in-graph
 * Transpose loses onnxruntime's NCHWc convolution path (measured on the `code` decoder's 497² layer:
 * 245 ms in one graph against 140 ms as separate runs).
 *
 * Gradients are written as forward operators (this onnxruntime build has no training kernels):
 * - input gradient of a convolution = ConvTranspose with the same filter, strides and pads, plus
 *   output_padding for the rows the forward stride never reached;
 * - filter gradient = a convolution of x (batch and channels swapped) with dy (likewise) as the filter,
 *   dilated by the stride: dW[i, j, c, o] = Σ_{b,y,x} x_pad[b, y·s + i, x·s + j, c] · dy[b, y, x, o].
 *
 * @module
 */
import { encodeOnnxModel, MS_DOMAIN, type OnnxGraph, type OnnxNode, OnnxType } from "./onnx_model.ts";
import type { OrtRuntime, OrtSession, OrtTensorArg } from "./ort_ffi.ts";

/** A float32 tensor as the engine sees it: its elements (row-major) and shape. */
export interface HostTensor {
  data: Float32Array;
  shape: readonly number[];
}

/** Padding of a 2-D convolution in input pixels (tfjs's `padInfo`). */
export interface Padding {
  top: number;
  bottom: number;
  left: number;
  right: number;
}

/** Geometry of a 2-D NHWC convolution, as tfjs's `computeConv2DInfo` resolves it. */
export interface ConvGeometry {
  batch: number;
  inHeight: number;
  inWidth: number;
  inChannels: number;
  outHeight: number;
  outWidth: number;
  outChannels: number;
  filterHeight: number;
  filterWidth: number;
  strideHeight: number;
  strideWidth: number;
  dilationHeight: number;
  dilationWidth: number;
  pad: Padding;
}

/** A graph whose inputs are `x0, x1, …` and outputs `y0, y1, …`, identified by `key`. */
export interface KernelGraph {
  /** Unique per graph structure, input shapes and attributes: the session cache key. */
  key: string;
  build: () => OnnxGraph;
}

/**
 * Convolution inputs below this many elements run as one graph with in-graph layout changes; above it the
 * transposes run separately, which keeps onnxruntime's fast Conv path (on the `code` decoder's 497² layer
 * the single graph took 245 ms against 140 ms; on 8×32×32×32 inputs it saves a quarter of the CPU time).
 */
const SMALL_CONV_ELEMENTS = 1 << 20;

/** Number of elements of a shape. */
export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Graph input/output declaration for a float32 tensor. */
export function floatInfo(name: string, shape: readonly number[]) {
  return { name, type: OnnxType.float, shape };
}

/** Where output arrays come from and where intermediate ones go back (the backend's pool). */
export interface Allocator {
  allocate(length: number): Float32Array;
  /** Takes back an array nothing references any more. */
  release(data: Float32Array): void;
}

const PLAIN_ALLOCATOR: Allocator = { allocate: (n) => new Float32Array(n), release: () => {} };

/** Compiled sessions of the engine's kernel graphs. */
export class OrtKernels {
  readonly runtime: OrtRuntime;
  readonly #allocator: Allocator;
  readonly #sessions = new Map<string, OrtSession>();
  /** Milliseconds spent compiling sessions (diagnostics). */
  compileMs = 0;

  /** Uses `runtime` for every graph and `allocate` for every output. */
  constructor(runtime: OrtRuntime, allocator: Allocator = PLAIN_ALLOCATOR) {
    this.runtime = runtime;
    this.#allocator = allocator;
  }

  /** Returns an intermediate result's array to the allocator, unless it is the storage of `source`. */
  #drop(intermediate: HostTensor, ...sources: HostTensor[]): void {
    if (sources.every((s) => s.data !== intermediate.data)) this.#allocator.release(intermediate.data);
  }

  /** Number of sessions compiled so far. */
  get compiled(): number {
    return this.#sessions.size;
  }

  /** Frees every compiled session. */
  dispose(): void {
    for (const s of this.#sessions.values()) s.dispose();
    this.#sessions.clear();
  }

  /** The session of `graph`, compiled on first use. */
  #session(graph: KernelGraph): OrtSession {
    let session = this.#sessions.get(graph.key);
    if (!session) {
      const started = performance.now();
      const g = graph.build();
      session = this.runtime.createSession(
        encodeOnnxModel(g),
        g.inputs.map((i) => i.name),
        g.outputs.map((o) => o.name),
      );
      this.#sessions.set(graph.key, session);
      this.compileMs += performance.now() - started;
    }
    return session;
  }

  /** Runs `graph` and returns its outputs in newly allocated arrays. */
  run(
    graph: KernelGraph,
    inputs: readonly HostTensor[],
    outShapes: readonly (readonly number[])[],
  ): HostTensor[] {
    const outputs = outShapes.map((shape) => ({ data: this.#allocator.allocate(sizeOf(shape)), shape }));
    this.#session(graph).run(inputs, outputs);
    return outputs;
  }

  /** Runs `graph` writing into the caller's output arrays (which may alias inputs where the graph allows). */
  runInto(graph: KernelGraph, inputs: readonly OrtTensorArg[], outputs: readonly OrtTensorArg[]): void {
    this.#session(graph).run(inputs, outputs);
  }

  /** Runs a graph of `nodes` over inputs `x0…` with one output `y0` of shape `outShape`. */
  runNodes(
    key: string,
    nodes: () => OnnxNode[],
    inputs: readonly HostTensor[],
    outShape: readonly number[],
    initializers?: OnnxGraph["initializers"],
  ): HostTensor {
    return this.run(
      {
        key,
        build: () => ({
          nodes: nodes(),
          inputs: inputs.map((t, i) => floatInfo(`x${i}`, t.shape)),
          outputs: [floatInfo("y0", outShape)],
          initializers,
        }),
      },
      inputs,
      [outShape],
    )[0];
  }

  /**
   * Permutes the axes of `x` (`out.shape[i] = x.shape[perm[i]]`). Skips the copy when the permutation
   * only moves axes of size 1 (the memory order is then unchanged).
   */
  transpose(x: HostTensor, perm: readonly number[]): HostTensor {
    const shape = perm.map((p) => x.shape[p]);
    const moved = perm.filter((p) => x.shape[p] !== 1);
    if (moved.every((p, i) => i === 0 || moved[i - 1] < p)) return { data: x.data, shape };
    return this.runNodes(
      `transpose|${x.shape}|${perm}`,
      () => [
        { op: "Transpose", inputs: ["x0"], outputs: ["y0"], attributes: { perm: { ints: perm } } },
      ],
      [x],
      shape,
    );
  }

  /** NHWC conv2d: x [B, H, W, Ci] ⊛ filter [kh, kw, Ci, Co] → [B, Ho, Wo, Co]. */
  conv2d(x: HostTensor, filter: HostTensor, g: ConvGeometry): HostTensor {
    if (x.data.length < SMALL_CONV_ELEMENTS) {
      // Small tensors: one graph (layout changes in-graph) costs less than four session runs.
      const attributes = convAttributes(g);
      return this.runNodes(
        `conv-nhwc|${x.shape}|${filter.shape}|${JSON.stringify(attributes)}`,
        () => [
          { op: "Transpose", inputs: ["x0"], outputs: ["xt"], attributes: { perm: { ints: [0, 3, 1, 2] } } },
          { op: "Transpose", inputs: ["x1"], outputs: ["wt"], attributes: { perm: { ints: [3, 2, 0, 1] } } },
          { op: "Conv", inputs: ["xt", "wt"], outputs: ["yt"], attributes },
          { op: "Transpose", inputs: ["yt"], outputs: ["y0"], attributes: { perm: { ints: [0, 2, 3, 1] } } },
        ],
        [x, filter],
        [g.batch, g.outHeight, g.outWidth, g.outChannels],
      );
    }
    return this.#convThroughNchw(
      "conv",
      x,
      filter,
      this.transpose(filter, [3, 2, 0, 1]),
      convAttributes(g),
      g,
    );
  }

  /**
   * An NHWC convolution run as onnxruntime's NCHW Conv: x is moved to NCHW, `w` is the filter already in
   * ONNX's [Co, Ci/group, kh, kw] layout (made from `filter`), and the result is moved back to NHWC.
   */
  #convThroughNchw(
    kind: string,
    x: HostTensor,
    filter: HostTensor,
    w: HostTensor,
    attributes: OnnxNode["attributes"],
    g: ConvGeometry,
  ): HostTensor {
    const xt = this.transpose(x, [0, 3, 1, 2]);
    const y = this.runNodes(
      `${kind}|${xt.shape}|${w.shape}|${JSON.stringify(attributes)}`,
      () => [
        { op: "Conv", inputs: ["x0", "x1"], outputs: ["y0"], attributes },
      ],
      [xt, w],
      [g.batch, g.outChannels, g.outHeight, g.outWidth],
    );
    this.#drop(xt, x);
    this.#drop(w, filter);
    const out = this.transpose(y, [0, 2, 3, 1]);
    this.#drop(y, out);
    return out;
  }

  /**
   * Input gradient of an NHWC conv2d (tfjs Conv2DBackpropInput, which is also tfjs's conv2dTranspose):
   * dy [B, Ho, Wo, Co], filter [kh, kw, Ci, Co] → dx [B, H, W, Ci].
   */
  conv2dBackpropInput(dy: HostTensor, filter: HostTensor, g: ConvGeometry): HostTensor {
    const flippedPads = stride1FlippedPads(g);
    if (flippedPads) {
      // Stride 1: the transposed convolution is a plain convolution with the filter flipped spatially and
      // its channel axes swapped, padded by (k − 1 − pad); onnxruntime's Conv is ~2× its ConvTranspose.
      const flipped = this.#flipFilter(filter, [0, 1, 3, 2]);
      const out = this.conv2d(dy, flipped, {
        ...g,
        inHeight: g.outHeight,
        inWidth: g.outWidth,
        inChannels: g.outChannels,
        outHeight: g.inHeight,
        outWidth: g.inWidth,
        outChannels: g.inChannels,
        pad: flippedPads,
      });
      this.#drop(flipped);
      return out;
    }
    if (g.dilationHeight === 1 && g.dilationWidth === 1) return this.#subPixelBackpropInput(dy, filter, g);
    const dyt = this.transpose(dy, [0, 3, 1, 2]);
    // ConvTranspose weight (C_in = Co, C_out = Ci, kh, kw) is the forward filter in OIHW order.
    const w = this.transpose(filter, [3, 2, 0, 1]);
    const attributes = { ...convAttributes(g), output_padding: { ints: outputPadding(g) } };
    const dx = this.runNodes(
      `convT|${dyt.shape}|${w.shape}|${JSON.stringify(attributes)}`,
      () => [
        { op: "ConvTranspose", inputs: ["x0", "x1"], outputs: ["y0"], attributes },
      ],
      [dyt, w],
      [g.batch, g.inChannels, g.inHeight, g.inWidth],
    );
    this.#drop(dyt, dy);
    this.#drop(w, filter);
    const out = this.transpose(dx, [0, 2, 3, 1]);
    this.#drop(dx, out);
    return out;
  }

  /**
   * A strided transposed convolution as one plain convolution plus a pixel shuffle (sub-pixel
   * convolution): output row s·q + r of the uncropped transposed convolution is Σ_j dy[q − j]·w[s·j + r],
   * i.e. for each phase r a full correlation of dy with the flipped sub-filter w[r], w[s + r], … of
   * J = ⌈k/s⌉ taps. All s² phases are output channels of one Conv (zero taps where s·j + r ≥ k), then
   * interleaved and cropped by the forward pads. onnxruntime's ConvTranspose instead builds a column
   * buffer of Ci·k²·Ho·Wo floats per image (311 MB for the `code` decoder's 245→497 layer) and runs at
   * a third of Conv's speed.
   */
  #subPixelBackpropInput(dy: HostTensor, filter: HostTensor, g: ConvGeometry): HostTensor {
    const [kh, kw, ci, co] = filter.shape;
    const [sh, sw] = [g.strideHeight, g.strideWidth];
    const [jh, jw] = [Math.ceil(kh / sh), Math.ceil(kw / sw)];
    const phases = sh * sw;
    // W'[(c·sh + ry)·sw + rx, o, ty, tx] = filter[sh·(jh − 1 − ty) + ry, sw·(jw − 1 − tx) + rx, c, o].
    const weight = this.#allocator.allocate(ci * phases * co * jh * jw);
    weight.fill(0);
    for (let c = 0; c < ci; c++) {
      for (let ry = 0; ry < sh; ry++) {
        for (let rx = 0; rx < sw; rx++) {
          for (let o = 0; o < co; o++) {
            const base = ((((c * sh + ry) * sw + rx) * co + o) * jh) * jw;
            for (let ty = 0; ty < jh; ty++) {
              const y = sh * (jh - 1 - ty) + ry;
              if (y >= kh) continue;
              for (let tx = 0; tx < jw; tx++) {
                const x = sw * (jw - 1 - tx) + rx;
                if (x < kw) weight[base + ty * jw + tx] = filter.data[((y * kw + x) * ci + c) * co + o];
              }
            }
          }
        }
      }
    }
    // Phase rows q = 0 … ⌈(pad + H)/s⌉ − 1 are needed; the conv's top/left padding J − 1 makes row q read
    // dy rows q − J + 1 … q.
    const [n, m] = [g.outHeight, g.outWidth];
    const qh = Math.max(n, Math.ceil((g.pad.top + g.inHeight) / sh));
    const qw = Math.max(m, Math.ceil((g.pad.left + g.inWidth) / sw));
    const pads = [jh - 1, jw - 1, qh - n, qw - m];
    const dyt = this.transpose(dy, [0, 3, 1, 2]);
    const w = { data: weight, shape: [ci * phases, co, jh, jw] };
    const outShape = [g.batch, g.inHeight, g.inWidth, ci];
    const key = `subpixel|${dyt.shape}|${w.shape}|${sh},${sw}|${pads}|${g.pad.top},${g.pad.left}|${outShape}`;
    const out = this.runNodes(
      key,
      (): OnnxNode[] => [
        { op: "Conv", inputs: ["x0", "x1"], outputs: ["phased"], attributes: { pads: { ints: pads } } },
        { op: "Reshape", inputs: ["phased", "split_shape"], outputs: ["split"] },
        {
          op: "Transpose",
          inputs: ["split"],
          outputs: ["interleaved"],
          attributes: { perm: { ints: [0, 4, 2, 5, 3, 1] } },
        },
        { op: "Reshape", inputs: ["interleaved", "full_shape"], outputs: ["full"] },
        { op: "Slice", inputs: ["full", "starts", "ends", "axes"], outputs: ["y0"] },
      ],
      [dyt, w],
      outShape,
      [
        { name: "split_shape", shape: [6], int64: [g.batch, ci, sh, sw, qh, qw] },
        { name: "full_shape", shape: [4], int64: [g.batch, qh * sh, qw * sw, ci] },
        { name: "starts", shape: [2], int64: [g.pad.top, g.pad.left] },
        { name: "ends", shape: [2], int64: [g.pad.top + g.inHeight, g.pad.left + g.inWidth] },
        { name: "axes", shape: [2], int64: [1, 2] },
      ],
    );
    this.#drop(dyt, dy);
    this.#allocator.release(weight);
    return out;
  }

  /**
   * Filter gradient of an NHWC conv2d (tfjs Conv2DBackpropFilter): x [B, H, W, Ci], dy [B, Ho, Wo, Co] →
   * dW [kh, kw, Ci, Co], as a convolution of x [Ci, B, H, W] with dy [Co, B, Ho, Wo] dilated by the stride.
   */
  conv2dBackpropFilter(x: HostTensor, dy: HostTensor, g: ConvGeometry): HostTensor {
    const xt = this.transpose(x, [3, 0, 1, 2]);
    const dyt = this.transpose(dy, [3, 0, 1, 2]);
    // The swapped convolution yields (H + pads − (Ho − 1)·s) rows; those past the filter come from x rows
    // the forward convolution never reached and are sliced off.
    const attributes = {
      dilations: { ints: [g.strideHeight, g.strideWidth] },
      pads: { ints: [g.pad.top, g.pad.left, g.pad.bottom, g.pad.right] },
    };
    const dW = this.runNodes(
      `convdW|${xt.shape}|${dyt.shape}|${JSON.stringify(attributes)}|${g.filterHeight},${g.filterWidth}`,
      () => [
        { op: "Conv", inputs: ["x0", "x1"], outputs: ["full"], attributes },
        { op: "Slice", inputs: ["full", "starts", "ends", "axes"], outputs: ["cropped"] },
        {
          op: "Transpose",
          inputs: ["cropped"],
          outputs: ["y0"],
          attributes: { perm: { ints: [2, 3, 0, 1] } },
        },
      ],
      [xt, dyt],
      [g.filterHeight, g.filterWidth, g.inChannels, g.outChannels],
      [
        { name: "starts", shape: [2], int64: [0, 0] },
        { name: "ends", shape: [2], int64: [g.filterHeight, g.filterWidth] },
        { name: "axes", shape: [2], int64: [2, 3] },
      ],
    );
    this.#drop(xt, x);
    this.#drop(dyt, dy);
    return dW;
  }

  /** NHWC depthwise conv2d: x [B, H, W, C] ⊛ filter [kh, kw, C, m] → [B, Ho, Wo, C·m]. */
  depthwiseConv2d(x: HostTensor, filter: HostTensor, g: ConvGeometry): HostTensor {
    const attributes = { ...convAttributes(g), group: { int: g.inChannels } };
    return this.#convThroughNchw("dwconv", x, filter, this.#depthwiseWeight(filter), attributes, g);
  }

  /** Input gradient of {@linkcode depthwiseConv2d}: dy [B, Ho, Wo, C·m] → dx [B, H, W, C]. */
  depthwiseConv2dBackpropInput(dy: HostTensor, filter: HostTensor, g: ConvGeometry): HostTensor {
    const flippedPads = stride1FlippedPads(g);
    if (flippedPads && filter.shape[3] === 1) {
      // As conv2dBackpropInput: a depthwise convolution with the flipped filter (grouped ConvTranspose is
      // ~10× slower in onnxruntime).
      const flipped = this.#flipFilter(filter, [0, 1, 2, 3]);
      const out = this.depthwiseConv2d(dy, flipped, {
        ...g,
        inHeight: g.outHeight,
        inWidth: g.outWidth,
        outHeight: g.inHeight,
        outWidth: g.inWidth,
        pad: flippedPads,
      });
      this.#drop(flipped);
      return out;
    }
    const dyt = this.transpose(dy, [0, 3, 1, 2]);
    const w = this.#depthwiseWeight(filter);
    const attributes = {
      ...convAttributes(g),
      group: { int: g.inChannels },
      output_padding: { ints: outputPadding(g) },
    };
    const dx = this.runNodes(
      `dwconvT|${dyt.shape}|${w.shape}|${JSON.stringify(attributes)}`,
      () => [
        { op: "ConvTranspose", inputs: ["x0", "x1"], outputs: ["y0"], attributes },
      ],
      [dyt, w],
      [g.batch, g.inChannels, g.inHeight, g.inWidth],
    );
    this.#drop(dyt, dy);
    this.#drop(w, filter);
    const out = this.transpose(dx, [0, 2, 3, 1]);
    this.#drop(dx, out);
    return out;
  }

  /** An HWIO filter reversed along both spatial axes, its last two axes permuted as `perm` says. */
  #flipFilter(filter: HostTensor, perm: readonly number[]): HostTensor {
    const shape = perm.map((p) => filter.shape[p]);
    return this.runNodes(
      `flip|${filter.shape}|${perm}`,
      () => [
        { op: "Transpose", inputs: ["x0"], outputs: ["t"], attributes: { perm: { ints: perm } } },
        { op: "Slice", inputs: ["t", "starts", "ends", "axes", "steps"], outputs: ["y0"] },
      ],
      [filter],
      shape,
      [
        { name: "starts", shape: [2], int64: [-1, -1] },
        { name: "ends", shape: [2], int64: [-(2 ** 62), -(2 ** 62)] },
        { name: "axes", shape: [2], int64: [0, 1] },
        { name: "steps", shape: [2], int64: [-1, -1] },
      ],
    );
  }

  /**
   * Splits `x` along `axis` into pieces of the given sizes. Pieces that are contiguous in memory (only
   * size-1 axes before `axis`) are copied directly; others run onnxruntime's Split.
   */
  split(x: HostTensor, sizes: readonly number[], axis: number): HostTensor[] {
    const shapes = sizes.map((n) => x.shape.map((d, i) => (i === axis ? n : d)));
    if (x.shape.slice(0, axis).every((d) => d === 1)) {
      const inner = sizeOf(x.shape.slice(axis + 1));
      let offset = 0;
      return shapes.map((shape, i) => {
        const data = this.#allocator.allocate(sizes[i] * inner);
        data.set(x.data.subarray(offset, offset + data.length));
        offset += data.length;
        return { data, shape };
      });
    }
    return this.run(
      {
        key: `split|${x.shape}|${sizes}|${axis}`,
        build: () => ({
          nodes: [{
            op: "Split",
            inputs: ["x0", "sizes"],
            outputs: shapes.map((_, i) => `y${i}`),
            attributes: { axis: { int: axis } },
          }],
          initializers: [{ name: "sizes", shape: [sizes.length], int64: [...sizes] }],
          inputs: [floatInfo("x0", x.shape)],
          outputs: shapes.map((shape, i) => floatInfo(`y${i}`, shape)),
        }),
      },
      [x],
      shapes,
    );
  }

  /** [kh, kw, C, m] → grouped-conv weight [C·m, 1, kh, kw] (output channel c·m + k, as tfjs orders it). */
  #depthwiseWeight(filter: HostTensor): HostTensor {
    const [kh, kw, c, m] = filter.shape;
    const t = this.transpose(filter, [2, 3, 0, 1]);
    return { data: t.data, shape: [c * m, 1, kh, kw] };
  }

  /**
   * Batched matrix product with tfjs's BatchMatMul semantics: a [..., M, K] (or [..., K, M] when
   * transposeA), b [..., K, N] (or [..., N, K]), batch dimensions broadcast → [..., M, N].
   */
  batchMatMul(
    a: HostTensor,
    b: HostTensor,
    transposeA: boolean,
    transposeB: boolean,
    outShape: readonly number[],
  ): HostTensor {
    const attributes = {
      transA: { int: transposeA ? 1 : 0 },
      transB: { int: transposeB ? 1 : 0 },
      alpha: { float: 1 },
    };
    return this.runNodes(
      `matmul|${a.shape}|${b.shape}|${transposeA}|${transposeB}`,
      () => [
        { op: "FusedMatMul", domain: MS_DOMAIN, inputs: ["x0", "x1"], outputs: ["y0"], attributes },
      ],
      [a, b],
      outShape,
    );
  }
}

function convAttributes(g: ConvGeometry) {
  return {
    strides: { ints: [g.strideHeight, g.strideWidth] },
    dilations: { ints: [g.dilationHeight, g.dilationWidth] },
    pads: { ints: [g.pad.top, g.pad.left, g.pad.bottom, g.pad.right] },
  };
}

/**
 * Padding of the stride-1 convolution with the flipped filter that computes a convolution's input
 * gradient, (k − 1 − pad) per side; null when the geometry is strided or dilated or a pad exceeds k − 1.
 */
function stride1FlippedPads(g: ConvGeometry): Padding | null {
  if (g.strideHeight !== 1 || g.strideWidth !== 1 || g.dilationHeight !== 1 || g.dilationWidth !== 1) {
    return null;
  }
  const pad = {
    top: g.filterHeight - 1 - g.pad.top,
    bottom: g.filterHeight - 1 - g.pad.bottom,
    left: g.filterWidth - 1 - g.pad.left,
    right: g.filterWidth - 1 - g.pad.right,
  };
  return Object.values(pad).every((p) => p >= 0) ? pad : null;
}

/** Rows/columns of x past the forward convolution's last stride step: they exist but get no gradient. */
function outputPadding(g: ConvGeometry): [number, number] {
  return [
    g.inHeight -
    ((g.outHeight - 1) * g.strideHeight + (g.filterHeight - 1) * g.dilationHeight + 1 - g.pad.top -
      g.pad.bottom),
    g.inWidth -
    ((g.outWidth - 1) * g.strideWidth + (g.filterWidth - 1) * g.dilationWidth + 1 - g.pad.left - g.pad.right),
  ];
}
