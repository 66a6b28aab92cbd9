/**
 * Slow gradient check at the `code` decoder's full shapes: every transposed-convolution layer of
 * model_res18.py's decoder (batch 1), forward and both gradients, on each requested backend against
 * tfjs-cpu. The unit tests cover the same kernels on reduced sizes; this is the check for sizes where a
 * backend's kernel can break (tfjs-backend-webgpu's own filter gradient does, which is why the harness
 * computes it from the forward convolution there). `nightly` runs it.
 *
 * ```sh
 * deno task check:gradients [--backends webgpu,onnxruntime] [--tolerance 1e-3]
 * ```
 *
 * Prints one line per layer and backend and exits 1 when any relative error exceeds the tolerance.
 *
 * @module
 */
import { parseArgs } from "node:util";
import * as tf from "@tensorflow/tfjs-core";
import { decoderLayers } from "../src/models/vtadl.ts";
import { resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { convTransposeOutSize } from "../src/models/layers.ts";
import {
  BACKEND_CHOICES,
  type BackendChoice,
  BackendUnavailableError,
  initBackend,
} from "../src/train/backend.ts";
import "../src/train/gradients.ts";

/** One layer's result on one backend. */
export interface GradientCheckRow {
  layer: string;
  backend: string;
  /** Relative error (max |Δ| / max |cpu|) of the output, the input gradient and the filter gradient. */
  output: number;
  inputGradient: number;
  filterGradient: number;
}

function relativeError(a: Float32Array, b: Float32Array): number {
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Runs the check of every decoder layer on `backends`; each row compares one layer on one backend. */
export async function checkDecoderGradients(backends: BackendChoice[]): Promise<GradientCheckRow[]> {
  const config = resolveConfig("vtadl", "code") as VtadlConfig;
  const rows: GradientCheckRow[] = [];
  let side = 8;
  for (const [i, layer] of decoderLayers(config).entries()) {
    const out = convTransposeOutSize(layer, side);
    const name =
      `layer ${i}: ${side}²×${layer.cin} → ${out}²×${layer.cout}, k${layer.kernel} s${layer.stride} crop ${layer.crop}`;
    // Values are read with the async API: synchronous reads need a canvas on webgpu.
    const run = async () => {
      const tensors = tf.tidy(() => {
        const x = tf.randomUniform([1, side, side, layer.cin], -1, 1, "float32", 1);
        const w = tf.randomUniform(
          [layer.kernel, layer.kernel, layer.cout, layer.cin],
          -0.1,
          0.1,
          "float32",
          2,
        );
        const up = tf.randomUniform([1, out, out, layer.cout], -1, 1, "float32", 3);
        const pad = layer.crop === 0 ? "valid" : layer.crop;
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          tf.conv2dTranspose(
            x as tf.Tensor4D,
            w as tf.Tensor4D,
            [1, out, out, layer.cout],
            layer.stride,
            pad,
          );
        const [dx, dw] = tf.grads((x: tf.Tensor, w: tf.Tensor) => tf.sum(tf.mul(f(x, w), up)))([x, w]);
        return [f(x, w), dx, dw];
      });
      const values = await Promise.all(tensors.map(async (t) => Float32Array.from(await t.data())));
      tf.dispose(tensors);
      return values;
    };
    await initBackend("cpu");
    const reference = await run();
    for (const backend of backends) {
      const info = await initBackend(backend);
      const [y, dx, dw] = await run();
      rows.push({
        layer: name,
        backend: info.name,
        output: relativeError(y, reference[0]),
        inputGradient: relativeError(dx, reference[1]),
        filterGradient: relativeError(dw, reference[2]),
      });
    }
    side = out;
  }
  return rows;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      backends: { type: "string", default: "webgpu,onnxruntime" },
      tolerance: { type: "string", default: "1e-3" },
    },
  });
  const tolerance = Number(values.tolerance);
  const backends = values.backends.split(",") as BackendChoice[];
  for (const b of backends) {
    if (!(BACKEND_CHOICES as readonly string[]).includes(b) || b === "auto") {
      console.error(`check:gradients: unknown backend '${b}'`);
      Deno.exit(2);
    }
  }
  let failed = false;
  const available: BackendChoice[] = [];
  for (const b of backends) {
    try {
      await initBackend(b);
      available.push(b);
    } catch (error) {
      if (!(error instanceof BackendUnavailableError)) throw error;
      console.log(`${b}: skipped (${error.message})`);
    }
  }
  for (const row of await checkDecoderGradients(available)) {
    const worst = Math.max(row.output, row.inputGradient, row.filterGradient);
    const ok = worst <= tolerance;
    failed ||= !ok;
    console.log(
      `${ok ? "ok  " : "FAIL"} ${row.backend.padEnd(11)} ${row.layer}: output ${
        row.output.toExponential(1)
      }, ` +
        `dx ${row.inputGradient.toExponential(1)}, dW ${row.filterGradient.toExponential(1)}`,
    );
  }
  Deno.exit(failed ? 1 : 0);
}
