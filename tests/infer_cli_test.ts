import assert from "node:assert/strict";
import { join } from "node:path";
import sharp from "sharp";
import { captureMain } from "./helpers/capture.ts";
import { resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { VtAdl } from "../src/models/vtadl.ts";
import { buildNetwork } from "../src/models/network.ts";
import { outputFiles, saveWeights } from "../src/weights/weight_files.ts";
import { inferImages } from "../src/eval/infer.ts";
import { decodeImage } from "../src/datasets/image_decode.ts";
import { preprocessImage } from "../src/datasets/preprocess.ts";
import { readNpy, writeNpy } from "../src/util/npy.ts";
import { RandomStream } from "../src/util/rng.ts";
import { assignParameters } from "../src/weights/assign.ts";
import { vtadlTestWeights, writeOriginalPair } from "./helpers/vtadl_weights.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

const capture = captureMain;

const smoke = () => resolveConfig("vtadl", "smoke") as VtadlConfig;

/** What the library computes for `data` with `weights`: the reference the CLI must reproduce exactly. */
async function reference(weights: ReturnType<typeof vtadlTestWeights>, data: Float32Array, n: number) {
  const net = new VtAdl(smoke(), RandomStream.derive(5, "init"));
  assignParameters(net, weights);
  const r = await inferImages(net, { shape: [n, 32, 32, 3], data });
  net.dispose();
  return r;
}

Deno.test("infer: X.npy and the original .pt pair give the library's outputs, with shapes, dtypes and infer.json", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const weights = vtadlTestWeights(smoke(), 3);
    const [a, b] = await writeOriginalPair(dir, weights, smoke());
    const x = RandomStream.derive(8, "noise").uniformArray(2 * 32 * 32 * 3, 0, 1);
    await writeNpy(join(dir, "X.npy"), { shape: [2, 32, 32, 3], data: x });
    const out = join(dir, "out");
    const argv = ["infer", "--config", "smoke", "--backend", "cpu", "--weights", a, "--weights", b];
    const r = await capture([...argv, "--input", join(dir, "X.npy"), "--out", out]);
    assert.equal(r.code, 0, r.stderr);
    const expected = await reference(weights, x, 2);
    const recon = await readNpy(join(out, "recon.npy"));
    const nll = await readNpy(join(out, "patch_nll.npy"));
    const map = await readNpy(join(out, "anomaly_map.npy"));
    const score = await readNpy(join(out, "image_score.npy"));
    assert.deepEqual(recon.shape, [2, 32, 32, 3]);
    assert.deepEqual(nll.shape, [2, 64]);
    assert.deepEqual(map.shape, [2, 32, 32]);
    assert.deepEqual(score.shape, [2]);
    assert.ok(recon.data instanceof Float32Array && nll.data instanceof Float32Array);
    assert.ok(map.data instanceof Float32Array && score.data instanceof Float64Array);
    assert.deepEqual(recon.data, expected.recon);
    assert.deepEqual(nll.data, expected.patchNll);
    assert.deepEqual(map.data, expected.anomalyMap);
    assert.deepEqual(score.data, expected.imageScore);
    const info = JSON.parse(await Deno.readTextFile(join(out, "infer.json")));
    assert.equal(info.config.name, "smoke");
    assert.equal(info.imageScore, "code");
    assert.equal(info.backend.name, "cpu");
    assert.deepEqual(info.weights.files.map((f: { name: string }) => f.name), [
      "VT_AE_Mvtech_toy.pt",
      "G_estimate_Mvtech_toy.pt",
    ]);
    assert.match(info.weights.digest, /^[0-9a-f]{64}$/);

    // The same weights as safetensors and as a checkpoint give the same outputs.
    for (const ext of ["safetensors", "ckpt"]) {
      const file = join(dir, `toy.${ext}`);
      const c = await capture([
        "weights",
        "convert",
        "--config",
        "smoke",
        "--from",
        a,
        "--from",
        b,
        "--to",
        file,
      ]);
      assert.equal(c.code, 0, c.stderr);
      const o = join(dir, `out-${ext}`);
      const s = await capture([
        ...argv.slice(0, 5),
        "--weights",
        file,
        "--input",
        join(dir, "X.npy"),
        "--out",
        o,
      ]);
      assert.equal(s.code, 0, s.stderr);
      assert.deepEqual((await readNpy(join(o, "image_score.npy"))).data, expected.imageScore, ext);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer: a folder of images is decoded, resized and cropped as the pipeline does, in name order", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const weights = vtadlTestWeights(smoke(), 4);
    const [a, b] = await writeOriginalPair(dir, weights, smoke());
    const images = join(dir, "images");
    await Deno.mkdir(images);
    const rng = RandomStream.derive(9, "noise");
    for (const name of ["b.png", "a.png"]) {
      const pixels = Uint8Array.from(rng.uniformArray(40 * 40 * 3, 0, 255), (v) => Math.floor(v));
      await sharp(pixels, { raw: { width: 40, height: 40, channels: 3 } }).png().toFile(join(images, name));
    }
    await Deno.writeTextFile(join(images, "notes.txt"), "not an image");
    const out = join(dir, "out");
    const r = await capture([
      "infer",
      "--config",
      "smoke",
      "--backend",
      "cpu",
      "--weights",
      b,
      "--weights",
      a,
      "--input",
      images,
      "--out",
      out,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const data = new Float32Array(2 * 32 * 32 * 3);
    for (const [i, name] of ["a.png", "b.png"].entries()) {
      const pixels = await preprocessImage(await decodeImage(join(images, name)), 34, 32);
      for (let j = 0; j < pixels.length; j++) data[i * pixels.length + j] = pixels[j] / 255;
    }
    const expected = await reference(weights, data, 2);
    assert.deepEqual((await readNpy(join(out, "anomaly_map.npy"))).data, expected.anomalyMap);
    assert.deepEqual((await readNpy(join(out, "image_score.npy"))).data, expected.imageScore);
    const info = JSON.parse(await Deno.readTextFile(join(out, "infer.json")));
    assert.deepEqual(info.input, { kind: "folder", files: ["a.png", "b.png"], resize: 34, crop: 32 });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer: missing flags exit 2; inputs of the wrong size or range exit 1 with the fix", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await writeOriginalPair(dir, vtadlTestWeights(smoke(), 5), smoke());
    const base = ["infer", "--config", "smoke", "--backend", "cpu", "--weights", a, "--weights", b];
    let r = await capture([...base, "--out", join(dir, "o")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--input X\.npy or --input FOLDER is required/);
    r = await capture(["infer", "--input", "x.npy", "--out", join(dir, "o")]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--weights is required/);
    await writeNpy(join(dir, "big.npy"), { shape: [1, 16, 16, 3], data: new Float32Array(768) });
    r = await capture([...base, "--input", join(dir, "big.npy"), "--out", join(dir, "o")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /images are 16×16×3, config 'smoke' needs 32×32×3/);
    await writeNpy(join(dir, "bytes.npy"), { shape: [1, 32, 32, 3], data: new Float32Array(3072).fill(255) });
    r = await capture([...base, "--input", join(dir, "bytes.npy"), "--out", join(dir, "o")]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /divide 8-bit pixels by 255/);
    await assert.rejects(Deno.stat(join(dir, "o", "recon.npy")), Deno.errors.NotFound);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("infer: an autoencoder runs from a harness checkpoint; the original's .pt pair is VT-ADL only", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const config = resolveConfig("ae-mse", "smoke");
    const net = buildNetwork(config, RandomStream.derive(6, "init"));
    const params = new Map(
      net.params.entries().map(([spec, v]) => [spec.name, {
        shape: spec.shape,
        values: Float32Array.from(v.dataSync() as Float32Array),
      }]),
    );
    const ck = join(dir, "ae.ckpt");
    await saveWeights(params, config, outputFiles([ck]), { sources: [] });
    const x = RandomStream.derive(10, "noise").uniformArray(32 * 32 * 3, 0, 1);
    await writeNpy(join(dir, "X.npy"), { shape: [1, 32, 32, 3], data: x });
    const argv = ["infer", "--model", "ae-mse", "--config", "smoke", "--backend", "cpu"];
    const r = await capture([
      ...argv,
      "--weights",
      ck,
      "--input",
      join(dir, "X.npy"),
      "--out",
      join(dir, "o"),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const expected = await inferImages(net, { shape: [1, 32, 32, 3], data: x });
    net.dispose();
    assert.deepEqual((await readNpy(join(dir, "o", "image_score.npy"))).data, expected.imageScore);
    assert.deepEqual((await readNpy(join(dir, "o", "patch_nll.npy"))).shape, [1, 0]);

    const [a, b] = await writeOriginalPair(dir, vtadlTestWeights(smoke(), 2), smoke());
    const s = await capture([
      ...argv,
      "--weights",
      a,
      "--weights",
      b,
      "--input",
      join(dir, "X.npy"),
      "--out",
      join(dir, "p"),
    ]);
    assert.equal(s.code, 2);
    assert.match(s.stderr, /holds VT-ADL weights .*--model ae-mse takes a harness checkpoint only/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
