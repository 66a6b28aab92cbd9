import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  CONFIG_NAMES,
  ConfigError,
  configHash,
  parseSetFlags,
  resolveConfig,
  type VtadlConfig,
} from "../src/models/configs.ts";
import { buildNetwork, parameterCounts } from "../src/models/network.ts";
import { RandomStream } from "../src/util/rng.ts";
import { MODEL_NAMES } from "../src/core/models.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

Deno.test("VT-ADL code parameter counts equal the original's exactly", () => {
  assert.deepEqual(parameterCounts(resolveConfig("vtadl", "code")), {
    encoder: 18_933_248,
    projection: 16_777_216,
    decoder: 142_099,
    mdn: 5_248_000,
    total: 18_933_248 + 16_777_216 + 142_099 + 5_248_000,
  });
});

Deno.test("VT-ADL MDN has 78,720,000 parameters at K = 150 (paper)", () => {
  assert.equal(parameterCounts(resolveConfig("vtadl", "paper")).mdn, 78_720_000);
  assert.equal(parameterCounts(resolveConfig("vtadl", "code", { numGaussians: "150" })).mdn, 78_720_000);
});

Deno.test("a built model's variable sizes match the count computed from shapes", async () => {
  await useCpu();
  for (const model of MODEL_NAMES) {
    const config = resolveConfig(model, "smoke");
    const net = buildNetwork(config, RandomStream.derive(1, "init"));
    const byPart: Record<string, number> = { encoder: 0, projection: 0, decoder: 0, mdn: 0 };
    for (const [spec, variable] of net.params.entries()) {
      if (variable.trainable) byPart[spec.part] += variable.size;
    }
    const counts = parameterCounts(config);
    assert.deepEqual(byPart, {
      encoder: counts.encoder,
      projection: counts.projection,
      decoder: counts.decoder,
      mdn: counts.mdn,
    }, model);
    net.dispose();
  }
  assert.equal(tf.memory().numTensors, 0);
});

Deno.test("every named config resolves for every model, smoke fits the 64 px synthetic data", () => {
  for (const model of MODEL_NAMES) {
    for (const name of CONFIG_NAMES) {
      const config = resolveConfig(model, name);
      assert.equal(config.name, name);
      assert.ok(config.resizeTo >= config.imageSize, `${model}/${name}`);
    }
    const smoke = resolveConfig(model, "smoke");
    assert.ok(smoke.imageSize <= 64 && smoke.resizeTo <= 64, model);
  }
});

Deno.test("code and paper variants differ exactly in the documented flags", () => {
  const code = resolveConfig("vtadl", "code") as VtadlConfig;
  const paper = resolveConfig("vtadl", "paper") as VtadlConfig;
  assert.equal(code.attentionScale, "dim");
  assert.equal(paper.attentionScale, "headDim");
  assert.equal(code.mixtureNll, "weightedComponentNll");
  assert.equal(paper.mixtureNll, "logSumExp");
  assert.equal(code.numGaussians, 10);
  assert.equal(paper.numGaussians, 150);
  assert.deepEqual(
    [code.batchSize, code.epochs, code.learningRate, code.weightDecay],
    [paper.batchSize, paper.epochs, paper.learningRate, paper.weightDecay],
  );
  assert.deepEqual([code.batchSize, code.epochs, code.learningRate, code.weightDecay], [8, 400, 1e-4, 1e-4]);
});

Deno.test("--set overrides are type-checked", () => {
  const c = resolveConfig("vtadl", "smoke", {
    epochs: "3",
    log2piOnce: "false",
    mixtureNll: "logSumExp",
  }) as VtadlConfig;
  assert.equal(c.epochs, 3);
  assert.equal(c.log2piOnce, false);
  assert.equal(c.mixtureNll, "logSumExp");
  assert.throws(
    () => resolveConfig("vtadl", "smoke", { epochs: "three" }),
    /epochs=three: expected a number/,
  );
  assert.throws(() => resolveConfig("vtadl", "smoke", { log2piOnce: "yes" }), /expected true or false/);
  assert.throws(() => resolveConfig("vtadl", "smoke", { mixtureNll: "bogus" }), ConfigError);
  assert.throws(() => resolveConfig("vtadl", "smoke", { nope: "1" }), /unknown key/);
  assert.throws(() => resolveConfig("vtadl", "smoke", { epochs: "1.5" }), ConfigError);
  assert.throws(() => resolveConfig("vtadl", "nonexistent"), /unknown config/);
  assert.throws(() => resolveConfig("vtadl", "smoke", { patchSize: "8" }), /more than 16/);
  assert.deepEqual(parseSetFlags(["a=1", "b=x=y"]), { a: "1", b: "x=y" });
  assert.throws(() => parseSetFlags(["novalue"]), /key=value/);
});

Deno.test("configHash is stable and changes with any field", () => {
  const a = resolveConfig("vtadl", "smoke");
  assert.equal(configHash(a), configHash(resolveConfig("vtadl", "smoke")));
  assert.match(configHash(a), /^[0-9a-f]{64}$/);
  assert.notEqual(configHash(a), configHash(resolveConfig("vtadl", "smoke", { epochs: "3" })));
  assert.notEqual(configHash(a), configHash(resolveConfig("ae-mse", "smoke")));
});
