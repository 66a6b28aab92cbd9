/**
 * Registers tfjs's gradient functions, plus a fast filter gradient for convolutions on the cpu backend.
 *
 * - `@tensorflow/tfjs-core`'s CommonJS build (what Deno loads) ships without gradients, and its
 *   `dist/register_all_gradients` is extensionless ESM that Deno cannot load, so they come from the union
 *   package `@tensorflow/tfjs` (same core version, same global engine).
 * - The filter gradient of `Conv2D` and of `Conv2DBackpropInput` (transposed convolution) is computed with
 *   the forward convolution on `cpu` and `webgpu`: dW[i, j] = Σ_{b,y,x} x_pad[b, y·s + i, x·s + j, :]ᵀ ·
 *   dy[b, y, x, :] is a convolution of x (batch as channels) with dy (dilated by the stride) as the filter.
 *   tfjs-backend-cpu's `Conv2DBackpropFilter` is a naive loop ~100× slower than its forward convolution,
 *   and tfjs-backend-webgpu's gives wrong values at the `code` decoder's sizes (relative error 0.67–0.93 on
 *   llvmpipe, correct on small shapes). `onnxruntime` and `tensorflow` keep their native kernels.
 *
 * Import this module for its side effect before computing gradients.
 *
 * @module
 */
import "@tensorflow/tfjs";
import * as tf from "@tensorflow/tfjs-core";

/**
 * Filter gradient of a stride-s NHWC convolution with input `x` [B, H, W, Ci] and output gradient `dy`
 * [B, Ho, Wo, Co], for a [k, k, Ci, Co] filter and tfjs's `pad`.
 *
 * @example
 * ```ts
 * const dW = convFilterGradient(x, dy, [3, 3, 8, 16], 1, "same");
 * ```
 */
export function convFilterGradient(
  x: tf.Tensor4D,
  dy: tf.Tensor4D,
  filterShape: [number, number, number, number],
  stride: number | [number, number],
  pad: "same" | "valid" | number,
): tf.Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, stride, 1, pad);
    const { top, bottom, left, right } = info.padInfo;
    const [kh, kw, ci, co] = filterShape;
    const { strideHeight, strideWidth } = info;
    const padded = tf.pad(x, [[0, 0], [top, bottom], [left, right], [0, 0]]);
    // Batch becomes the contraction axis: x [Ci, Hp, Wp, B] ⊛ dy [Ho, Wo, B, Co] dilated by the stride.
    const input = tf.transpose(padded, [3, 1, 2, 0]) as tf.Tensor4D;
    const filter = tf.transpose(dy, [1, 2, 0, 3]) as tf.Tensor4D;
    const full = tf.conv2d(input, filter, 1, "valid", "NHWC", [strideHeight, strideWidth]);
    const grad = tf.slice(full, [0, 0, 0, 0], [ci, kh, kw, co]);
    return tf.transpose(grad, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

type Attrs = { strides: number | [number, number]; pad: "same" | "valid" | number };

/** Backends whose filter gradients go through {@linkcode convFilterGradient}. */
export const FILTER_GRADIENT_BACKENDS: readonly string[] = ["cpu", "webgpu"];

function usesHarnessFilterGradient(): boolean {
  return FILTER_GRADIENT_BACKENDS.includes(tf.getBackend());
}

const conv2dGrad = tf.getGradient("Conv2D");
const conv2dTransposeGrad = tf.getGradient("Conv2DBackpropInput");

tf.registerGradient({
  ...conv2dGrad,
  gradFunc: (dy, saved, attrs) => {
    const grads = conv2dGrad.gradFunc(dy, saved, attrs);
    if (!usesHarnessFilterGradient()) return grads;
    const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad } = attrs as unknown as Attrs;
    return {
      ...grads,
      filter: () =>
        convFilterGradient(
          x,
          dy as tf.Tensor4D,
          filter.shape as [number, number, number, number],
          strides,
          pad,
        ),
    };
  },
});

tf.registerGradient({
  ...conv2dTransposeGrad,
  gradFunc: (ddx, saved, attrs) => {
    const grads = conv2dTransposeGrad.gradFunc(ddx, saved, attrs);
    if (!usesHarnessFilterGradient()) return grads;
    // y = conv2dTranspose(dy, filter) is the input gradient of a convolution whose input is y and whose
    // output is dy, so its filter gradient is that convolution's filter gradient with input ddx.
    const [dy, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
    const { strides, pad } = attrs as unknown as Attrs;
    return {
      ...grads,
      filter: () =>
        convFilterGradient(
          ddx as tf.Tensor4D,
          dy,
          filter.shape as [number, number, number, number],
          strides,
          pad,
        ),
    };
  },
});

/**
 * Frees each intermediate gradient as soon as backprop has used it.
 *
 * tfjs keeps the gradient of every tensor on the tape until the whole backward pass ends, so a training
 * step holds the saved activations plus one gradient of each activation at the same time (1.9 GB of the
 * `code` step at batch 2, against 1.0 GB for the activations alone). Backprop visits each node once, in
 * reverse order, and a tensor's gradient is only read when its producing node is visited; once that node's
 * input gradients exist, the gradients of its outputs are dead. This wraps every tape node's gradient
 * function so that, when backprop moves on to the next node, the previous node's output gradients are
 * disposed, provided that they were created by a gradient function of this pass and returned only once
 * (a user-supplied `dy`, the seed, and tensors reused by two gradient functions are left to tfjs). Only
 * first-order backprop (no tape recording under way) releases anything.
 */
function releaseGradientsEagerly(): void {
  type Node = { gradient?: (dys: (tf.Tensor | null)[]) => Record<string, () => tf.Tensor> };
  const engine = tf.engine() as unknown as {
    state: { activeTape: Node[] | null; gradientDepth: number };
  };
  const prototype = Object.getPrototypeOf(engine) as { addTapeNode: (...args: unknown[]) => void };
  const addTapeNode = prototype.addTapeNode;
  /** Gradients returned by a gradient function in this process (candidates for release). */
  const produced = new WeakSet<tf.Tensor>();
  /** Of those, the ones returned more than once (may be referenced twice). */
  const shared = new WeakSet<tf.Tensor>();
  let previous: (tf.Tensor | null)[] = [];
  const releasePrevious = () => {
    if (engine.state.gradientDepth === 0) {
      for (const dy of previous) {
        if (dy && produced.has(dy) && !shared.has(dy) && !dy.isDisposed && !dy.kept) dy.dispose();
      }
    }
    previous = [];
  };
  prototype.addTapeNode = function (this: typeof engine, ...args: unknown[]) {
    addTapeNode.apply(this, args);
    const node = this.state.activeTape?.at(-1);
    const gradient = node?.gradient;
    if (!node || !gradient) return;
    node.gradient = (dys) => {
      releasePrevious();
      const inputGradients = gradient(dys);
      previous = dys;
      const wrapped: Record<string, () => tf.Tensor> = {};
      for (const [name, fn] of Object.entries(inputGradients)) {
        wrapped[name] = () => {
          const dx = fn();
          if (produced.has(dx) || dys.includes(dx)) shared.add(dx);
          produced.add(dx);
          return dx;
        };
      }
      return wrapped;
    };
  };
}

releaseGradientsEagerly();
