import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { type AutoencoderConfig, resolveConfig } from "../src/models/configs.ts";
import { autoencoderLayers, ConvAutoencoder, declareAutoencoderWeights } from "../src/models/autoencoder.ts";
import { ParamScope } from "../src/models/params.ts";
import { RandomStream } from "../src/util/rng.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

function aeConfig(name: string, overrides: Record<string, string> = {}): AutoencoderConfig {
  return resolveConfig("ae-mse", name, overrides) as AutoencoderConfig;
}

Deno.test("encoder at 128×128 is Bergmann et al. Table 1", () => {
  const encoder = autoencoderLayers(aeConfig("quick")).filter((l) => l.part === "encoder");
  assert.deepEqual(
    encoder.map((l) => `${l.cout}·${l.kernel}/${l.stride}`),
    ["32·4/2", "32·4/2", "32·3/1", "64·4/2", "64·3/1", "128·4/2", "64·3/1", "32·3/1", "100·8/1"],
  );
  assert.equal(encoder[encoder.length - 1].pad, "valid");
});

Deno.test("decoder mirrors the encoder and ends in 3 channels", () => {
  const layers = autoencoderLayers(aeConfig("quick"));
  const encoder = layers.filter((l) => l.part === "encoder");
  const decoder = layers.filter((l) => l.part === "decoder");
  assert.equal(decoder.length, encoder.length);
  assert.deepEqual(
    decoder.map((l) => `${l.kind}:${l.cin}→${l.cout}·${l.kernel}/${l.stride}`),
    encoder.map((l) =>
      `${l.kernel === 4 || l.kernel === 8 ? "convT" : "conv"}:${l.cout}→${l.cin}·${l.kernel}/${l.stride}`
    )
      .reverse(),
  );
});

Deno.test("512 px adds two stride-2 stages, 32 px turns two into stride 1", () => {
  const strides = (name: string) =>
    autoencoderLayers(aeConfig(name)).filter((l) => l.part === "encoder" && l.stride === 2).length;
  assert.equal(strides("quick"), 4);
  assert.equal(strides("code"), 6);
  assert.equal(strides("smoke"), 2);
});

Deno.test("reconstruction has the input's shape at 32 and 128 px, in (0, 1)", async () => {
  await useCpu();
  for (const [name, size] of [["smoke", 32], ["quick", 128]] as const) {
    const net = new ConvAutoencoder(aeConfig(name), RandomStream.derive(1, "init"));
    const x = tf.tensor4d(RandomStream.derive(2, "noise").uniformArray(size * size * 3, 0, 1), [
      1,
      size,
      size,
      3,
    ]);
    const recon = tf.tidy(() => net.reconstruct(x));
    assert.deepEqual(recon.shape, [1, size, size, 3]);
    const values = await recon.data();
    assert.ok(values.every((v) => v > 0 && v < 1));
    tf.dispose([x, recon]);
    net.dispose();
  }
});

Deno.test("ae-ssim adds (1 − SSIM) to the MSE loss, ae-mse does not", async () => {
  await useCpu();
  const x = tf.tensor4d(RandomStream.derive(2, "noise").uniformArray(2 * 32 * 32 * 3, 0, 1), [2, 32, 32, 3]);
  for (const model of ["ae-mse", "ae-ssim"] as const) {
    const net = new ConvAutoencoder(
      resolveConfig(model, "smoke") as AutoencoderConfig,
      RandomStream.derive(1, "init"),
    );
    const out = net.loss(x);
    const [loss, mse, ssim] = await Promise.all(
      [out.loss, out.terms.mse, out.terms.ssim].map(async (t) => (await t.data())[0]),
    );
    const expected = model === "ae-mse" ? mse : mse + (1 - ssim);
    assert.ok(Math.abs(loss - expected) < 1e-5, `${model}: ${loss} vs ${expected}`);
    net.dispose();
  }
});

Deno.test("every autoencoder weight is declared with its layer and checkpoint names are stable", () => {
  for (const name of ["smoke", "code"]) {
    const config = resolveConfig("ae-ssim", name) as AutoencoderConfig;
    const root = new ParamScope();
    const layers = declareAutoencoderWeights(config, root);
    assert.deepEqual(root.specs, layers.flatMap((l) => [l.w, l.b]), name);
    assert.equal(layers[0].w.name, "encoder.layer0.w");
    assert.equal(layers.at(-1)!.b.name, `decoder.layer${layers.length - 1}.b`);
  }
});
