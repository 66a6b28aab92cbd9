import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { VtAdl } from "../src/models/vtadl.ts";
import { RandomStream } from "../src/util/rng.ts";
import { inferImages } from "../src/eval/infer.ts";
import { patchHeatmap } from "../src/eval/heatmap.ts";
import { assignParameters } from "../src/weights/assign.ts";
import { encodeTorchStateDict, readTorchStateDict } from "../src/weights/torch_file.ts";
import { assignOriginalFiles, harnessToOriginal, originalToHarness } from "../src/weights/vtadl_mapping.ts";
import type { ParameterValues } from "../src/weights/tensor.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

const config = () => resolveConfig("vtadl", "smoke") as VtadlConfig;

function images(n: number, seed = 11): { shape: [number, number, number, number]; data: Float32Array } {
  return {
    shape: [n, 32, 32, 3],
    data: RandomStream.derive(seed, "noise").uniformArray(n * 32 * 32 * 3, 0, 1),
  };
}

/** A network's current weights by name, with BatchNorm running statistics made non-trivial. */
function weightsOf(net: VtAdl): Map<string, ParameterValues> {
  const out = new Map<string, ParameterValues>();
  for (const [spec, v] of net.params.entries()) {
    let values = v.dataSync() as Float32Array;
    if (spec.name.endsWith(".bn.var")) values = values.map((_, i) => 0.5 + 0.1 * i);
    if (spec.name.endsWith(".bn.mean")) values = values.map((_, i) => 0.05 * i - 0.2);
    out.set(spec.name, { shape: spec.shape, values: Float32Array.from(values) });
  }
  return out;
}

Deno.test("infer: a .pt pair in the original layout loads into a fresh network and reproduces its outputs exactly", async () => {
  await useCpu();
  const c = config();
  const a = new VtAdl(c, RandomStream.derive(1, "init"));
  const weights = weightsOf(a);
  assignParameters(a, weights);
  const { vtae, mdn } = harnessToOriginal(weights, c);
  const files = [
    { source: "VT_AE_Mvtech_x.pt", map: readTorchStateDict(encodeTorchStateDict(vtae), "VT_AE_Mvtech_x.pt") },
    {
      source: "G_estimate_Mvtech_x.pt",
      map: readTorchStateDict(encodeTorchStateDict(mdn), "G_estimate_Mvtech_x.pt"),
    },
  ];
  const b = new VtAdl(c, RandomStream.derive(99, "init")); // different initial weights
  assignParameters(b, originalToHarness(assignOriginalFiles(files), c));
  const x = images(2);
  const ra = await inferImages(a, x), rb = await inferImages(b, x);
  assert.deepEqual(rb.recon, ra.recon);
  assert.deepEqual(rb.patchNll, ra.patchNll);
  assert.deepEqual(rb.anomalyMap, ra.anomalyMap);
  assert.deepEqual(rb.imageScore, ra.imageScore);
  a.dispose();
  b.dispose();
});

Deno.test("infer: outputs follow test.py — MSE + SSIM + max NLL, NLL map upsampled and filtered with σ 4", async () => {
  await useCpu();
  const net = new VtAdl(config(), RandomStream.derive(2, "init"));
  const x = images(2, 12);
  const before = tf.memory().numTensors;
  const r = await inferImages(net, x);
  assert.equal(tf.memory().numTensors, before);
  assert.equal(r.imageScoreVariant, "code");
  assert.equal(r.heatmapSigma, 4);
  assert.equal(r.patches, 64);
  const pixels = 32 * 32;
  for (let i = 0; i < 2; i++) {
    const nll = r.patchNll.subarray(i * 64, (i + 1) * 64);
    assert.equal(r.imageScore[i], r.mse[i] + r.ssim[i] + Math.max(...nll));
    assert.deepEqual(
      r.anomalyMap.subarray(i * pixels, (i + 1) * pixels),
      patchHeatmap(nll, 8, 32, 32, { sigma: 4 }),
    );
    let sq = 0; // MSE from the returned reconstruction and the input, in float64
    for (let j = 0; j < pixels * 3; j++) {
      sq += (r.recon[i * pixels * 3 + j] - x.data[i * pixels * 3 + j]) ** 2;
    }
    assert.ok(Math.abs(sq / (pixels * 3) - r.mse[i]) < 1e-6);
  }
  // One image at a time: the second image's outputs do not depend on the first.
  const alone = await inferImages(net, { shape: [1, 32, 32, 3], data: x.data.slice(pixels * 3) });
  assert.deepEqual(alone.patchNll, r.patchNll.slice(64));
  net.dispose();
});

Deno.test("infer: grey images are replicated to three channels; bad inputs are refused with the fix", async () => {
  await useCpu();
  const net = new VtAdl(config(), RandomStream.derive(3, "init"));
  const grey = RandomStream.derive(4, "noise").uniformArray(32 * 32, 0, 1);
  const rgb = new Float32Array(32 * 32 * 3).map((_, i) => grey[Math.floor(i / 3)]);
  const a = await inferImages(net, { shape: [1, 32, 32, 1], data: grey });
  const b = await inferImages(net, { shape: [1, 32, 32, 3], data: rgb });
  assert.deepEqual(a.imageScore, b.imageScore);
  const bad = images(1);
  bad.data[5] = 255;
  await assert.rejects(
    inferImages(net, bad),
    /image 0 holds 255 at element 5: inputs must be in \[0, 1\].*divide 8-bit pixels by 255/,
  );
  await assert.rejects(
    inferImages(net, { shape: [1, 16, 16, 3], data: new Float32Array(768) }),
    /images are 16×16×3, config 'smoke' needs 32×32×3/,
  );
  net.dispose();
});

Deno.test("assignParameters: missing or misshapen weights are all named and nothing is assigned", async () => {
  await useCpu();
  const net = new VtAdl(config(), RandomStream.derive(5, "init"));
  const weights = weightsOf(net);
  const before = net.params.get("encoder.cls").dataSync().slice();
  weights.set("encoder.cls", { shape: [1, 1, 32], values: new Float32Array(32).fill(7) });
  weights.delete("mdn.pi.w");
  weights.set("projection.w", { shape: [4, 4], values: new Float32Array(16) });
  assert.throws(
    () => assignParameters(net, weights),
    /weights do not fit the vtadl\/smoke network: 'projection\.w' is 4×4, the network has 2048×64; missing 'mdn\.pi\.w'/,
  );
  assert.deepEqual(net.params.get("encoder.cls").dataSync(), before);
  net.dispose();
});
