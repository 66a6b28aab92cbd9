import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { convTransposeOutSize, squash } from "../src/models/layers.ts";
import { declareVtadlWeights, decoderLayers, patchify, VtAdl } from "../src/models/vtadl.ts";
import { ParamScope } from "../src/models/params.ts";
import { RandomStream } from "../src/util/rng.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

function smoke(overrides: Record<string, string> = {}): VtadlConfig {
  return resolveConfig("vtadl", "smoke", overrides) as VtadlConfig;
}

function randomImages(n: number, size: number, seed = 3): tf.Tensor4D {
  return tf.tensor4d(RandomStream.derive(seed, "noise").uniformArray(n * size * size * 3, 0, 1), [
    n,
    size,
    size,
    3,
  ]);
}

Deno.test("code decoder follows the original's sizes 8→15→49→245→497→502→512", () => {
  const sizes = [8];
  for (const layer of decoderLayers(resolveConfig("vtadl", "code") as VtadlConfig)) {
    sizes.push(convTransposeOutSize(layer, sizes[sizes.length - 1]));
  }
  assert.deepEqual(sizes, [8, 15, 49, 245, 497, 502, 512]);
});

Deno.test("smoke forward gives a [B, 32, 32, 3] tanh reconstruction and a [B, 64] patch NLL", async () => {
  await useCpu();
  const net = new VtAdl(smoke(), RandomStream.derive(1, "init"));
  const before = tf.memory().numTensors;
  const out = tf.tidy(() => {
    const { recon, patchNll } = net.infer(randomImages(2, 32));
    return { recon, patchNll: patchNll! };
  });
  assert.deepEqual(out.recon.shape, [2, 32, 32, 3]);
  assert.deepEqual(out.patchNll?.shape, [2, 64]);
  const recon = await out.recon.data();
  assert.ok(recon.every((v) => v > -1 && v < 1));
  tf.dispose([out.recon, out.patchNll!]);
  assert.equal(tf.memory().numTensors, before);
  net.dispose();
});

Deno.test("patches are flattened in (p1, p2, c) order, row-major over the grid", async () => {
  await useCpu();
  const size = 32;
  const x = tf.tensor4d(new Float32Array(size * size * 3).map((_, i) => i), [1, size, size, 3]);
  const tokens = patchify(x, 4);
  assert.deepEqual(tokens.shape, [1, 64, 48]);
  const t = await tokens.data();
  const at = (r: number, c: number, ch: number) => (r * size + c) * 3 + ch;
  // Patch 1 is grid row 0, column 1: pixel (0, 4) channels 0-2, then pixel (0, 5), …, then row 1 of the patch.
  assert.deepEqual(Array.from(t.slice(48, 54)), [
    at(0, 4, 0),
    at(0, 4, 1),
    at(0, 4, 2),
    at(0, 5, 0),
    at(0, 5, 1),
    at(0, 5, 2),
  ]);
  assert.equal(t[48 + 12], at(1, 4, 0));
  assert.equal(t[8 * 48], at(4, 0, 0)); // patch 8 starts the second grid row
  tf.dispose([x, tokens]);
});

Deno.test("squash with ε = 0 is NaN at s = 0 (as the code) and finite with ε > 0", async () => {
  await useCpu();
  const zero = tf.zeros([1, 4]);
  assert.ok(Number.isNaN((await squash(zero, 0).data())[0]));
  assert.equal((await squash(zero, 1e-8).data())[0], 0);
  const s = tf.tensor2d([[3, 4]]);
  const v = await squash(s, 0).data(); // ‖v‖ = 25/26
  assert.ok(Math.abs(Math.hypot(v[0], v[1]) - 25 / 26) < 1e-6);
});

/** Direct per-patch NLL in float64 from the MDN's weights (mdn1.py), for one patch vector. */
function directNll(
  x: Float64Array,
  w: { pi: Float32Array; mu: Float32Array; sigma: Float32Array },
  d: number,
  k: number,
  config: VtadlConfig,
): number {
  const input = config.mdnInputClamp ? x.map((v) => Math.max(v, 2.220446049250313e-16)) : x;
  const dot = (m: Float32Array, cols: number, col: number) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += input[i] * m[i * cols + col];
    return s;
  };
  const logits = Array.from({ length: k }, (_, j) => dot(w.pi, k, j));
  const maxLogit = Math.max(...logits);
  const z = logits.reduce((a, l) => a + Math.exp(l - maxLogit), 0);
  const logPi = logits.map((l) => l - maxLogit - Math.log(z));
  const logDensity: number[] = [];
  for (let j = 0; j < k; j++) {
    let sum = 0;
    for (let f = 0; f < d; f++) {
      const mu = dot(w.mu, d * k, f * k + j);
      const sp = Math.log1p(Math.exp(dot(w.sigma, d * k, f * k + j)));
      const sq = (x[f] - mu) ** 2;
      if (config.varianceParam === "expSoftplusLogVar") sum += sp + sq * Math.exp(-sp);
      else sum += 2 * Math.log(sp + config.sigmaFloor) + sq / (sp + config.sigmaFloor) ** 2;
    }
    logDensity.push(-0.5 * (sum + (config.log2piOnce ? 1 : d) * Math.log(2 * Math.PI)));
  }
  if (config.mixtureNll === "weightedComponentNll") {
    return logPi.reduce((a, lp, j) => a + Math.exp(lp) * -logDensity[j], 0);
  }
  const terms = logPi.map((lp, j) => lp + logDensity[j]);
  const m = Math.max(...terms);
  return -(m + Math.log(terms.reduce((a, t) => a + Math.exp(t - m), 0)));
}

for (const variant of ["code", "paper"] as const) {
  Deno.test(`MDN patch NLL matches a direct float64 computation (${variant} flags)`, async () => {
    await useCpu();
    const overrides: Record<string, string> = variant === "code" ? {} : {
      mixtureNll: "logSumExp",
      varianceParam: "softplusStd",
      log2piOnce: "false",
      mdnInputClamp: "false",
      sigmaFloor: "1e-6",
    };
    const config = smoke(overrides);
    const net = new VtAdl(config, RandomStream.derive(2, "init"));
    const d = config.dim, k = config.numGaussians;
    const encoded = RandomStream.derive(9, "noise").normalArray(2 * 3 * d, 1);
    const nll = net.patchNll(tf.tensor3d(encoded, [2, 3, d]));
    const got = await nll.data();
    const weights = {
      pi: await net.params.get("mdn.pi.w").data() as Float32Array,
      mu: await net.params.get("mdn.mu.w").data() as Float32Array,
      sigma: await net.params.get("mdn.sigma.w").data() as Float32Array,
    };
    for (let i = 0; i < 6; i++) {
      const expected = directNll(Float64Array.from(encoded.slice(i * d, (i + 1) * d)), weights, d, k, config);
      assert.ok(
        Math.abs(got[i] - expected) < 1e-4 * Math.max(1, Math.abs(expected)),
        `patch ${i}: ${got[i]} vs ${expected}`,
      );
    }
    net.dispose();
  });
}

Deno.test("log2piOnce shifts every patch NLL by 0.5·(D − 1)·log 2π and nothing else", async () => {
  await useCpu();
  const once = new VtAdl(smoke(), RandomStream.derive(4, "init"));
  const perDim = new VtAdl(smoke({ log2piOnce: "false" }), RandomStream.derive(4, "init"));
  const encoded = tf.tensor3d(RandomStream.derive(1, "noise").normalArray(64 * 32, 1), [1, 64, 32]);
  const a = await once.patchNll(encoded).data();
  const b = await perDim.patchNll(encoded).data();
  const shift = 0.5 * 31 * Math.log(2 * Math.PI);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(b[i] - a[i] - shift) < 1e-3, `${b[i] - a[i]}`);
  once.dispose();
  perDim.dispose();
});

Deno.test("attention scale flag changes the encoder output", async () => {
  await useCpu();
  const x = randomImages(1, 32);
  const code = new VtAdl(smoke(), RandomStream.derive(6, "init"));
  const paper = new VtAdl(smoke({ attentionScale: "headDim" }), RandomStream.derive(6, "init"));
  const a = await code.encode(x).data();
  const b = await paper.encode(x).data();
  assert.ok(a.some((v, i) => Math.abs(v - b[i]) > 1e-4));
  code.dispose();
  paper.dispose();
});

Deno.test("training loss is 5·MSE − 0.5·SSIM + NLL with the code's weights", async () => {
  await useCpu();
  const net = new VtAdl(smoke(), RandomStream.derive(7, "init"));
  const out = net.loss(randomImages(2, 32), null);
  const [loss, mse, ssim, nll] = await Promise.all(
    [out.loss, out.terms.mse, out.terms.ssim, out.terms.nll].map(async (t) => (await t.data())[0]),
  );
  assert.ok(Math.abs(loss - (5 * mse - 0.5 * ssim + nll)) < 1e-3 * Math.abs(loss));
  assert.equal(out.bnStats.length, 3); // three BN layers in the smoke decoder
  net.dispose();
});

/** Every ParamSpec object reachable from a value (the typed weights of a model). */
function reachableSpecs(value: unknown, out = new Set<unknown>()): Set<unknown> {
  if (value === null || typeof value !== "object") return out;
  if ("name" in value && "shape" in value && "init" in value) return out.add(value);
  for (const v of Object.values(value)) reachableSpecs(v, out);
  return out;
}

Deno.test("every VT-ADL weight is declared by its block and held by it: no weight is looked up by a rebuilt name", () => {
  for (const name of ["smoke", "code", "paper"]) {
    const config = resolveConfig("vtadl", name) as VtadlConfig;
    const root = new ParamScope();
    const weights = declareVtadlWeights(config, root);
    const held = reachableSpecs(weights);
    assert.equal(held.size, root.specs.length, name);
    for (const spec of root.specs) assert.ok(held.has(spec), `${name}: ${spec.name} is held by a block`);
    assert.equal(new Set(root.specs.map((s) => s.name)).size, root.specs.length, "names are unique");
    assert.equal(weights.layers.length, config.depth);
    assert.equal(weights.layers[0].qkv.name, "encoder.layer0.qkv.w", "checkpoint names are stable");
  }
});
