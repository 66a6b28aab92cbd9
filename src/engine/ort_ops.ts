/**
 * tfjs kernels that are one or two ONNX operators: elementwise arithmetic with NumPy broadcasting (the
 * same rule as tfjs), unary maths, reductions over axes, softmax and layout operations.
 *
 * They matter because tfjs-backend-cpu runs them as single-threaded JavaScript loops, and any operand with a
 * broadcast dimension (a bias, a scalar, a per-channel statistic) takes its generic path, which converts
 * every flat index to coordinates and back: on the `code` network these kernels took 27 of the 30 kernel
 * seconds of a training step. onnxruntime runs them vectorised on the shared thread pool.
 *
 * Each entry maps a kernel's inputs and attributes to graph nodes over inputs `x0…` producing `y0`; the
 * backend decides when a call is large enough to be worth a session run (see `native_backend.ts`).
 *
 * @module
 */
import type { OnnxInitializer, OnnxNode } from "./onnx_model.ts";

/** What an op entry produces for one call: nodes, constants, and a key part for its attributes. */
export interface OpGraph {
  nodes: OnnxNode[];
  initializers?: OnnxInitializer[];
  /** Distinguishes graphs whose nodes depend on attributes (part of the session key). */
  attributeKey: string;
}

/** Builds the graph of one call from its inputs' shapes and the kernel's attributes. */
export type OpBuilder = (shapes: readonly (readonly number[])[], attrs: Record<string, unknown>) => OpGraph;

const node = (op: string, inputs: string[], outputs = ["y0"], attributes?: OnnxNode["attributes"]) => ({
  op,
  inputs,
  outputs,
  attributes,
});

function simple(op: string, arity: 1 | 2): OpBuilder {
  const inputs = arity === 1 ? ["x0"] : ["x0", "x1"];
  return () => ({ nodes: [node(op, inputs)], attributeKey: "" });
}

/** Elementwise kernels with one or two inputs (tfjs kernel name → graph). */
export const ELEMENTWISE: Record<string, OpBuilder> = {
  Add: simple("Add", 2),
  Sub: simple("Sub", 2),
  Multiply: simple("Mul", 2),
  RealDiv: simple("Div", 2),
  Maximum: simple("Max", 2),
  Minimum: simple("Min", 2),
  Pow: simple("Pow", 2),
  SquaredDifference: () => ({
    nodes: [node("Sub", ["x0", "x1"], ["d"]), node("Mul", ["d", "d"])],
    attributeKey: "",
  }),
  Sqrt: simple("Sqrt", 1),
  Exp: simple("Exp", 1),
  Log: simple("Log", 1),
  Neg: simple("Neg", 1),
  Abs: simple("Abs", 1),
  Relu: simple("Relu", 1),
  Tanh: simple("Tanh", 1),
  Sigmoid: simple("Sigmoid", 1),
  Erf: simple("Erf", 1),
  Reciprocal: simple("Reciprocal", 1),
  Softplus: simple("Softplus", 1),
  Square: () => ({ nodes: [node("Mul", ["x0", "x0"])], attributeKey: "" }),
  Rsqrt: () => ({ nodes: [node("Sqrt", ["x0"], ["s"]), node("Reciprocal", ["s"])], attributeKey: "" }),
  LeakyRelu: (_, attrs) => ({
    nodes: [node("LeakyRelu", ["x0"], ["y0"], { alpha: { float: attrs.alpha as number } })],
    attributeKey: `${attrs.alpha}`,
  }),
  // tfjs Step: x > 0 ? 1 : alpha, NaN stays NaN (the ReLU gradient uses alpha = 0).
  Step: (_, attrs) => ({
    nodes: [
      node("Greater", ["x0", "zero"], ["positive"]),
      node("Where", ["positive", "one", "alpha"], ["stepped"]),
      node("IsNaN", ["x0"], ["nan"]),
      node("Where", ["nan", "x0", "stepped"]),
    ],
    initializers: [
      { name: "zero", shape: [], float: [0] },
      { name: "one", shape: [], float: [1] },
      { name: "alpha", shape: [], float: [attrs.alpha as number] },
    ],
    attributeKey: `${attrs.alpha}`,
  }),
  AddN: (shapes) => ({ nodes: [node("Sum", shapes.map((_, i) => `x${i}`))], attributeKey: "" }),
};

/** Normalises tfjs's `axis` attribute (number, list, negative or absent) to sorted non-negative axes. */
export function reductionAxes(axis: unknown, rank: number): number[] {
  const list = axis === undefined || axis === null
    ? Array.from({ length: rank }, (_, i) => i)
    : (Array.isArray(axis) ? axis : [axis]) as number[];
  return [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
}

function reduce(op: string): OpBuilder {
  return (shapes, attrs) => {
    const axes = reductionAxes(attrs.axis, shapes[0].length);
    const keepdims = attrs.keepDims ? 1 : 0;
    if (op === "ReduceSum") {
      return {
        nodes: [node(op, ["x0", "axes"], ["y0"], { keepdims: { int: keepdims } })],
        initializers: [{ name: "axes", shape: [axes.length], int64: axes }],
        attributeKey: `${axes}|${keepdims}`,
      };
    }
    return {
      nodes: [node(op, ["x0"], ["y0"], { axes: { ints: axes }, keepdims: { int: keepdims } })],
      attributeKey: `${axes}|${keepdims}`,
    };
  };
}

/** Reductions over `axis` (all axes when absent), with tfjs's `keepDims`. */
export const REDUCTIONS: Record<string, OpBuilder> = {
  Sum: reduce("ReduceSum"),
  Mean: reduce("ReduceMean"),
  Max: reduce("ReduceMax"),
  Min: reduce("ReduceMin"),
};

/** Output shape of a reduction. */
export function reducedShape(shape: readonly number[], axisAttr: unknown, keepDims: boolean): number[] {
  const axes = new Set(reductionAxes(axisAttr, shape.length));
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!axes.has(i)) out.push(d);
    else if (keepDims) out.push(1);
  });
  return out;
}
