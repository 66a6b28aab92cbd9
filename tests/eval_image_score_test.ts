import assert from "node:assert/strict";
import { imageScore, imageScores, type RawScores } from "../src/eval/image_score.ts";
import { anomalyMap, evaluateCategory } from "../src/eval/evaluate.ts";
import { defaultImageScore, MODELS } from "../src/core/models.ts";
import { resolveConfig } from "../src/models/configs.ts";
import { bruteAuroc, fakeSplit, SIZE } from "./fakes/pipeline_fakes.ts";

function raw(mse: number, ssim: number, nll: number[] | null): RawScores {
  return {
    mse,
    ssim,
    patchNll: nll ? Float32Array.from(nll) : null,
    gridSize: nll ? Math.sqrt(nll.length) : 0,
    errorMap: Float32Array.of(0.1, 0.2, 0.3, 0.4),
    ssimMap: Float32Array.of(0.9, 0.5, 1, 0),
  };
}

Deno.test("code score adds SSIM with a plus sign, as test.py:143 (MSE − (−SSIM) + max NLL)", () => {
  const r = raw(0.25, 0.75, [3, 9, 1, 4]);
  assert.equal(imageScore(r, "code"), 0.25 + 0.75 + 9);
  // a better reconstruction (higher SSIM) raises the code score: the sign the original has
  assert.ok(imageScore(raw(0.25, 0.9, [3, 9, 1, 4]), "code") > imageScore(r, "code"));
});

Deno.test("paper, nll and recon scores follow their definitions", () => {
  const r = raw(0.25, 0.75, [3, 9, 1, 4]);
  assert.equal(imageScore(r, "paper"), 0.25 + 0.25 + 9);
  assert.equal(imageScore(r, "nll"), 9);
  assert.equal(imageScore(r, "recon"), 0.5);
  assert.equal(imageScore(r, "mse"), 0.25);
  assert.equal(imageScore(r, "ssim"), 0.25);
  assert.ok(imageScore(raw(0.25, 0.9, [3, 9, 1, 4]), "paper") < imageScore(r, "paper"));
});

Deno.test("NLL-based scores on an autoencoder's outputs fail with a message naming the fix", () => {
  assert.throws(
    () => imageScore(raw(0.1, 0.9, null), "code"),
    /needs per-patch NLL.*use 'recon', 'mse' or 'ssim'/,
  );
});

Deno.test("non-finite image scores are refused naming the image", () => {
  assert.throws(() => imageScores([raw(0.1, 0.9, null), raw(NaN, 0.9, null)], "mse"), /test image 1 is NaN/);
});

Deno.test("default scores follow the config flags; maps follow the model", () => {
  const vtadl = (set: Record<string, string>) => defaultImageScore(resolveConfig("vtadl", "smoke", set));
  assert.equal(vtadl({}), "code");
  assert.equal(vtadl({ imageScoreSsim: "oneMinus" }), "paper");
  assert.equal(vtadl({ imageScore: "reconstruction" }), "recon");
  assert.equal(defaultImageScore(resolveConfig("vtadl", "paper")), "paper");
  assert.equal(defaultImageScore(resolveConfig("vtadl", "mnist")), "recon");
  assert.equal(defaultImageScore(resolveConfig("ae-mse", "mnist")), "mse");
  assert.equal(defaultImageScore(resolveConfig("ae-ssim", "smoke")), "ssim");
  assert.equal(MODELS.vtadl.anomalyMap, "patchNll");
  assert.equal(MODELS["ae-mse"].anomalyMap, "error");
  assert.equal(MODELS["ae-ssim"].anomalyMap, "oneMinusSsim");
});

Deno.test("autoencoder anomaly maps are the error map or 1 − SSIM map", () => {
  const r = raw(0.1, 0.9, null);
  assert.deepEqual(
    Array.from(anomalyMap(r, "error", 2, 2).data),
    Array.from(Float32Array.of(0.1, 0.2, 0.3, 0.4)),
  );
  const ssimMap = anomalyMap(r, "oneMinusSsim", 2, 2).data;
  [0.1, 0.5, 0, 1].forEach((v, i) => assert.ok(Math.abs(ssimMap[i] - v) < 1e-6, `pixel ${i}`));
  // a 2×2 map evaluated at 3×3 is resized with aligned corners: the centre is the mean of the four
  assert.ok(Math.abs(anomalyMap(r, "error", 3, 3).data[4] - 0.25) < 1e-6);
});

Deno.test("evaluateCategory labels metrics with their definitions and scores pixels only with masks", () => {
  const split = fakeSplit("synthetic", "alpha");
  const raws = split.test.map((s) => {
    const v = s.label ? 5 : 1;
    return raw(0.1, 0.8, Array.from({ length: 16 }, () => v));
  });
  const ev = evaluateCategory(split.test, raws, { imageScore: "nll", anomalyMap: "patchNll" });
  const byKey = Object.fromEntries(ev.metrics.map((m) => [m.key, m]));
  assert.equal(byKey.imageAuroc.definition, "image-AUROC");
  assert.equal(byKey.imageAuroc.value, bruteAuroc(ev.scores, split.test.map((s) => s.label)));
  assert.equal(byKey.prAucTrapezoid.definition, "PR-AUC/trap");
  assert.equal(byKey.vtadlCodePro.definition, "pixel-AUROC/all");
  assert.match(byKey.vtadlCodePro.label, /= pixel ROC-AUC/);
  assert.equal(byKey.auPro.definition, "AU-PRO@0.3");
  assert.equal(byKey.auPro.details?.nRegions, 5);
  assert.equal(ev.maps?.length, split.test.length);
  assert.equal(ev.maps?.[0].width, SIZE);
  assert.equal(ev.masks?.[0].data.length, SIZE * SIZE);

  const noMasks = fakeSplit("mnist", "3", false);
  const ev2 = evaluateCategory(
    noMasks.test,
    raws,
    { imageScore: "recon", anomalyMap: "patchNll" },
  );
  assert.equal(ev2.maps, null);
  assert.equal(ev2.metrics.length, 3);
});
