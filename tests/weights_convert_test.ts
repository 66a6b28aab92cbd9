import assert from "node:assert/strict";
import { join } from "node:path";
import { captureMain } from "./helpers/capture.ts";
import { resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { readCheckpoint } from "../src/train/checkpoint.ts";
import { readSafetensors } from "../src/weights/safetensors.ts";
import { readTorchStateDict } from "../src/weights/torch_file.ts";
import type { ParameterValues, WeightMap } from "../src/weights/tensor.ts";
import { vtadlTestWeights, writeOriginalPair } from "./helpers/vtadl_weights.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";
import { sha256Hex } from "../src/datasets/hashing.ts";

const capture = captureMain;

const smoke = () => resolveConfig("vtadl", "smoke") as VtadlConfig;

const randomWeights = (config: VtadlConfig) => vtadlTestWeights(config);
const writePair = (dir: string, weights: Map<string, ParameterValues>) =>
  writeOriginalPair(dir, weights, smoke());

async function readPair(a: string, b: string): Promise<WeightMap> {
  return new Map([
    ...readTorchStateDict(await Deno.readFile(a), a),
    ...readTorchStateDict(await Deno.readFile(b), b),
  ]);
}

Deno.test("weights convert: .pt pair → safetensors → checkpoint → .pt pair keeps every tensor bit for bit", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await writePair(dir, randomWeights(smoke()));
    const st = join(dir, "toy.safetensors"),
      ck = join(dir, "toy.ckpt"),
      back = join(dir, "back", "VT_AE_toy.pt");
    await Deno.mkdir(join(dir, "back"));
    // The pair in either order on the command line.
    let r = await capture(["weights", "convert", "--config", "smoke", "--from", b, "--from", a, "--to", st]);
    assert.equal(r.code, 0, r.stderr);
    r = await capture(["weights", "convert", "--config", "smoke", "--from", st, "--to", ck]);
    assert.equal(r.code, 0, r.stderr);
    r = await capture(["weights", "convert", "--config", "smoke", "--from", ck, "--to", back]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /toy\.ckpt \(checkpoint, sha256 [0-9a-f]{12}\) → .*VT_AE_toy\.pt \+ .*G_estimate_toy\.pt/,
    );

    const original = await readPair(a, b);
    const roundTrip = await readPair(back, join(dir, "back", "G_estimate_toy.pt"));
    assert.deepEqual([...roundTrip.keys()], [...original.keys()]);
    for (const [k, t] of original) {
      const u = roundTrip.get(k)!;
      assert.equal(u.dtype, t.dtype, k);
      assert.deepEqual(u.shape, t.shape, k);
      assert.deepEqual(u.data, t.data, k);
    }
    // safetensors holds the original's key names and layouts, with the sources in its metadata.
    const { tensors, metadata } = readSafetensors(await Deno.readFile(st), st);
    assert.deepEqual([...tensors.keys()].sort(), [...original.keys()].sort());
    assert.deepEqual(tensors.get("Digcap.W")!.shape, original.get("Digcap.W")!.shape);
    assert.equal(metadata.layout, "vtadl-original");
    assert.deepEqual(JSON.parse(metadata.sources).map((s: { name: string }) => s.name), [
      "VT_AE_Mvtech_toy.pt",
      "G_estimate_Mvtech_toy.pt",
    ]);
    // The checkpoint names where it came from, so training never continues it as its own.
    const { meta } = await readCheckpoint(ck);
    assert.equal(meta.optimizerStep, 7);
    assert.equal(meta.epoch, 0);
    const digest = sha256Hex(await Deno.readFile(st));
    assert.deepEqual(meta.identity.data, { importedWeights: [{ name: "toy.safetensors", sha256: digest }] });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("weights convert: weights that do not fit the config are refused naming the key and both shapes", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await writePair(dir, randomWeights(smoke()));
    const out = join(dir, "x.safetensors");
    let r = await capture([
      "weights",
      "convert",
      "--config",
      "smoke",
      "--set",
      "numGaussians=5",
      "--from",
      a,
      "--from",
      b,
      "--to",
      out,
    ]);
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /'pi\.weight' is \(3, 32\), expected \(5, 32\); the file has K = 3 Gaussians: use --set numGaussians=3/,
    );
    const ck = join(dir, "toy.ckpt");
    assert.equal(
      (await capture(["weights", "convert", "--config", "smoke", "--from", a, "--from", b, "--to", ck])).code,
      0,
    );
    r = await capture(["weights", "convert", "--from", ck, "--to", out]); // default config: code
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      /toy\.ckpt does not fit vtadl\/code: 'encoder\.patch\.w' is \(48, 32\), config needs \(12288, 512\).*it was written with config 'smoke'/,
    );
    await assert.rejects(Deno.stat(out), Deno.errors.NotFound); // nothing written on failure
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("weights convert: usage mistakes exit 2 with the fix; damaged files exit 1", async () => {
  await useCpu();
  const dir = await Deno.makeTempDir();
  try {
    const [a, b] = await writePair(dir, randomWeights(smoke()));
    const cases: [string[], number, RegExp][] = [
      [
        ["weights", "convert", "--from", a, "--to", join(dir, "o.safetensors")],
        2,
        /saves two per product.*pass both/,
      ],
      [["weights", "convert", "--from", a, "--from", b], 2, /--to is required/],
      [
        ["weights", "convert", "--from", a, "--from", b, "--to", join(dir, "o.bin")],
        2,
        /name the output VT_AE_<name>\.pt/,
      ],
      [
        ["weights", "convert", "--from", a, "--from", b, "--to", join(dir, "model.pt")],
        2,
        /must be named VT_AE_<name>\.pt/,
      ],
      [
        ["weights", "convert", "--from", join(dir, "none.pt"), "--to", join(dir, "o.ckpt")],
        2,
        /none\.pt: file not found/,
      ],
      [["weights", "transmute", "--from", a, "--to", join(dir, "o.ckpt")], 2, /ACTION/],
    ];
    for (const [argv, code, message] of cases) {
      const r = await capture(argv);
      assert.equal(r.code, code, argv.join(" "));
      assert.match(r.stderr, message, argv.join(" "));
    }
    const bytes = await Deno.readFile(a);
    await Deno.writeFile(a, bytes.subarray(0, Math.floor(bytes.length / 2)));
    const r = await capture([
      "weights",
      "convert",
      "--config",
      "smoke",
      "--from",
      a,
      "--from",
      b,
      "--to",
      join(dir, "o.ckpt"),
    ]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /VT_AE_Mvtech_toy\.pt: .*(truncated|damaged)/);
    await Deno.writeFile(a, new TextEncoder().encode("hello world, not weights"));
    const s = await capture(["weights", "convert", "--from", a, "--from", b, "--to", join(dir, "o.ckpt")]);
    assert.equal(s.code, 1);
    assert.match(s.stderr, /not a weight file this harness reads/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
