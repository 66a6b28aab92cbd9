/**
 * A tiny writer for ONNX models: one graph of a few nodes, typed float/int inputs and outputs, optional
 * constant initialisers, serialised as the `onnx.ModelProto` protobuf that onnxruntime parses.
 *
 * The engine builds one small graph per kernel call shape (e.g. Transpose → Conv → Transpose), so only a
 * handful of message types are needed; they are written here with the protobuf wire format (varints and
 * length-delimited fields) instead of pulling in a protobuf runtime plus the 900-line onnx.proto schema.
 * Field numbers follow onnx/onnx.proto (IR version 8).
 *
 * @module
 */

/** ONNX tensor element types the engine uses (TensorProto.DataType). */
export const OnnxType = { float: 1, int32: 6, int64: 7, bool: 9 } as const;
/** One of {@linkcode OnnxType}'s values. */
export type OnnxElementType = (typeof OnnxType)[keyof typeof OnnxType];

/** An attribute value: an int, a float, a list of ints or a string. */
export type OnnxAttribute =
  | { int: number }
  | { float: number }
  | { ints: readonly number[] }
  | { floats: readonly number[] }
  | { string: string };

/** One graph node. */
export interface OnnxNode {
  op: string;
  inputs: readonly string[];
  outputs: readonly string[];
  attributes?: Record<string, OnnxAttribute>;
  /** Operator domain: "" (default ONNX) or "com.microsoft". */
  domain?: string;
}

/** A graph input or output with a static shape. */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElementType;
  shape: readonly number[];
}

/** A constant tensor baked into the graph. */
export interface OnnxInitializer {
  name: string;
  shape: readonly number[];
  /** int64 values (e.g. a Reshape target) or float values. */
  int64?: readonly number[];
  float?: readonly number[];
}

/** A whole single-graph model. */
export interface OnnxGraph {
  nodes: readonly OnnxNode[];
  inputs: readonly OnnxValueInfo[];
  outputs: readonly OnnxValueInfo[];
  initializers?: readonly OnnxInitializer[];
}

/** Default-domain opset the engine's graphs are written against. */
export const ONNX_OPSET = 17;
/** ORT's contrib domain (FusedMatMul, NhwcConv, …), used by some graphs. */
export const MS_DOMAIN = "com.microsoft";

const IR_VERSION = 8;

/** Growable byte buffer with protobuf wire-format writers. */
class ProtoWriter {
  #bytes = new Uint8Array(256);
  #length = 0;

  #ensure(extra: number): void {
    if (this.#length + extra <= this.#bytes.length) return;
    let size = this.#bytes.length * 2;
    while (size < this.#length + extra) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#bytes.subarray(0, this.#length));
    this.#bytes = next;
  }

  varint(value: number | bigint): void {
    // Negative int64 values are written as 10-byte two's complement varints, as protobuf requires.
    let v = BigInt.asUintN(64, BigInt(value));
    this.#ensure(10);
    while (v >= 0x80n) {
      this.#bytes[this.#length++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.#bytes[this.#length++] = Number(v);
  }

  tag(field: number, wireType: 0 | 1 | 2 | 5): void {
    this.varint((field << 3) | wireType);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, 2);
    this.varint(data.length);
    this.#ensure(data.length);
    this.#bytes.set(data, this.#length);
    this.#length += data.length;
  }

  string(field: number, text: string): void {
    this.bytes(field, new TextEncoder().encode(text));
  }

  int(field: number, value: number): void {
    this.tag(field, 0);
    this.varint(value);
  }

  float(field: number, value: number): void {
    this.tag(field, 5);
    this.#ensure(4);
    new DataView(this.#bytes.buffer).setFloat32(this.#length, value, true);
    this.#length += 4;
  }

  message(field: number, write: (w: ProtoWriter) => void): void {
    const inner = new ProtoWriter();
    write(inner);
    this.bytes(field, inner.finish());
  }

  packedInts(field: number, values: readonly number[]): void {
    const inner = new ProtoWriter();
    for (const v of values) inner.varint(v);
    this.bytes(field, inner.finish());
  }

  packedFloats(field: number, values: readonly number[]): void {
    const data = new Uint8Array(values.length * 4);
    const view = new DataView(data.buffer);
    values.forEach((v, i) => view.setFloat32(i * 4, v, true));
    this.bytes(field, data);
  }

  finish(): Uint8Array {
    return this.#bytes.slice(0, this.#length);
  }
}

// AttributeProto.AttributeType
const ATTR_FLOAT = 1, ATTR_INT = 2, ATTR_STRING = 3, ATTR_FLOATS = 6, ATTR_INTS = 7;

function writeAttribute(w: ProtoWriter, name: string, value: OnnxAttribute): void {
  w.string(1, name);
  if ("int" in value) {
    w.int(20, ATTR_INT);
    w.int(3, value.int);
  } else if ("float" in value) {
    w.int(20, ATTR_FLOAT);
    w.float(2, value.float);
  } else if ("ints" in value) {
    w.int(20, ATTR_INTS);
    w.packedInts(8, value.ints);
  } else if ("floats" in value) {
    w.int(20, ATTR_FLOATS);
    w.packedFloats(7, value.floats);
  } else {
    w.int(20, ATTR_STRING);
    w.string(4, value.string);
  }
}

function writeValueInfo(w: ProtoWriter, info: OnnxValueInfo): void {
  w.string(1, info.name);
  // TypeProto { tensor_type = 1: { elem_type = 1, shape = 2: { dim = 1: { dim_value = 1 } } } }
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, info.type);
      tensor.message(2, (shape) => {
        for (const d of info.shape) shape.message(1, (dim) => dim.int(1, d));
      });
    }));
}

function writeInitializer(w: ProtoWriter, init: OnnxInitializer): void {
  w.packedInts(1, init.shape);
  if (init.int64) {
    w.int(2, OnnxType.int64);
    w.packedInts(7, init.int64);
  } else {
    w.int(2, OnnxType.float);
    w.packedFloats(4, init.float ?? []);
  }
  w.string(8, init.name);
}

/**
 * Serialises a graph as an ONNX ModelProto.
 *
 * @example
 * ```ts
 * const bytes = encodeOnnxModel({
 *   nodes: [{ op: "Relu", inputs: ["x"], outputs: ["y"] }],
 *   inputs: [{ name: "x", type: OnnxType.float, shape: [4] }],
 *   outputs: [{ name: "y", type: OnnxType.float, shape: [4] }],
 * });
 * ```
 */
export function encodeOnnxModel(graph: OnnxGraph): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, IR_VERSION);
  w.string(2, "vtadl-bench");
  w.message(7, (g) => {
    graph.nodes.forEach((node, i) =>
      g.message(1, (n) => {
        for (const input of node.inputs) n.string(1, input);
        for (const output of node.outputs) n.string(2, output);
        n.string(3, `n${i}`);
        n.string(4, node.op);
        for (const [name, value] of Object.entries(node.attributes ?? {})) {
          n.message(5, (a) => writeAttribute(a, name, value));
        }
        if (node.domain) n.string(7, node.domain);
      })
    );
    g.string(2, "kernel");
    for (const init of graph.initializers ?? []) g.message(5, (t) => writeInitializer(t, init));
    for (const input of graph.inputs) g.message(11, (v) => writeValueInfo(v, input));
    for (const output of graph.outputs) g.message(12, (v) => writeValueInfo(v, output));
  });
  w.message(8, (o) => {
    o.string(1, "");
    o.int(2, ONNX_OPSET);
  });
  if (graph.nodes.some((n) => n.domain === MS_DOMAIN)) {
    w.message(8, (o) => {
      o.string(1, MS_DOMAIN);
      o.int(2, 1);
    });
  }
  return w.finish();
}
