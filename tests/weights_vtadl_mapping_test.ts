import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import { CONFIG_NAMES, resolveConfig, type VtadlConfig } from "../src/models/configs.ts";
import { convTranspose, dense } from "../src/models/layers.ts";
import { decoderLayers, vtadlParamSpecs } from "../src/models/vtadl.ts";
import { RandomStream } from "../src/util/rng.ts";
import {
  assignOriginalFiles,
  harnessToOriginal,
  mergeOriginalFiles,
  type OriginalStateDicts,
  originalToHarness,
  splitOriginalKeys,
  vtadlWeightTable,
} from "../src/weights/vtadl_mapping.ts";
import { float32Tensor, type ParameterValues, toFloat32, WeightFileError } from "../src/weights/tensor.ts";
import { useCpu } from "./fixtures/tf_cpu.ts";

const smoke = () => resolveConfig("vtadl", "smoke") as VtadlConfig;

/** Random harness parameters for every spec of a config. */
function randomParams(config: VtadlConfig, seed = 1): Map<string, ParameterValues> {
  const rng = RandomStream.derive(seed, "init");
  return new Map(
    vtadlParamSpecs(config).map((s) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      return [s.name, { shape: s.shape, values: rng.uniformArray(n, -1, 1) }];
    }),
  );
}

/** The original-layout values of one key. */
function originalValues(files: OriginalStateDicts, key: string): Float32Array {
  return toFloat32(files.vtae.get(key) ?? files.mdn.get(key)!);
}

Deno.test("mapping: the table names every harness parameter once, for every VT-ADL config", () => {
  for (const name of CONFIG_NAMES) {
    const config = resolveConfig("vtadl", name) as VtadlConfig;
    const table = vtadlWeightTable(config);
    const mapped = table.flatMap((r) => (r.harness ? [r.harness] : [])).sort();
    assert.deepEqual(mapped, vtadlParamSpecs(config).map((s) => s.name).sort(), name);
    assert.equal(new Set(table.map((r) => r.key)).size, table.length, `${name}: duplicate original keys`);
  }
  // docs/original-code.md §12: 108 keys in VT_AE_*.pt and 3 in G_estimate_*.pt.
  const code = vtadlWeightTable(resolveConfig("vtadl", "code") as VtadlConfig);
  assert.equal(code.filter((r) => r.file === "vtae").length, 108);
  assert.deepEqual(code.filter((r) => r.file === "mdn").map((r) => r.key), [
    "pi.weight",
    "mu.weight",
    "sigma_sq.weight",
  ]);
});

Deno.test("mapping: the code config's original shapes are those of §12", () => {
  const config = resolveConfig("vtadl", "code") as VtadlConfig;
  const shapes = new Map(vtadlParamSpecs(config).map((s) => [s.name, s.shape]));
  // Build a zero-filled harness set and export it: shapes are then the original ones.
  const zeros = new Map([...shapes].map(([n, shape]) => [n, {
    shape,
    values: new Float32Array(shape.reduce((a, b) => a * b, 1)),
  }]));
  const { vtae, mdn } = harnessToOriginal(zeros, config);
  const shapeOf = (k: string) => (vtae.get(k) ?? mdn.get(k))!.shape;
  assert.deepEqual(shapeOf("vt.pos_embedding"), [1, 65, 512]);
  assert.deepEqual(shapeOf("vt.patch_to_embedding.weight"), [512, 12288]);
  assert.deepEqual(shapeOf("vt.transformer.layers.5.0.fn.fn.to_qkv.weight"), [1536, 512]);
  assert.deepEqual(shapeOf("vt.transformer.layers.0.1.fn.fn.net.0.weight"), [1024, 512]);
  assert.deepEqual(shapeOf("decoder.decoder2.0.weight"), [8, 16, 3, 3]);
  assert.deepEqual(shapeOf("decoder.decoder2.15.weight"), [8, 3, 11, 11]);
  assert.deepEqual(shapeOf("decoder.decoder2.13.running_var"), [8]);
  assert.deepEqual(shapeOf("decoder.decoder2.13.num_batches_tracked"), []);
  assert.deepEqual(shapeOf("Digcap.W"), [1, 4096, 512, 8]);
  assert.deepEqual(shapeOf("mu.weight"), [5120, 512]);
  assert.deepEqual([...vtae.keys()].slice(0, 4), [
    "vt.pos_embedding",
    "vt.cls_token",
    "vt.patch_to_embedding.weight",
    "vt.patch_to_embedding.bias",
  ]);
});

Deno.test("mapping: harness → original → harness is exact, and so is a merged single map", () => {
  const config = smoke();
  const params = randomParams(config);
  const files = harnessToOriginal(params, config, { numBatchesTracked: 9 });
  assert.equal(
    Number(
      new DataView(files.vtae.get("decoder.decoder2.1.num_batches_tracked")!.data.buffer).getBigInt64(
        0,
        true,
      ),
    ),
    9,
  );
  for (const pair of [files, splitOriginalKeys(mergeOriginalFiles(files), config)]) {
    const back = originalToHarness(pair, config);
    for (const [name, p] of params) assert.deepEqual(back.get(name)!.values, p.values, name);
  }
});

Deno.test("mapping: a Linear weight maps so that dense(x, W) = x·Wᵀ + b as nn.Linear computes", async () => {
  await useCpu();
  const config = smoke();
  const files = harnessToOriginal(randomParams(config, 2), config);
  const params = originalToHarness(files, config);
  const w = originalValues(files, "vt.transformer.layers.0.1.fn.fn.net.0.weight"); // [64, 32]
  const b = originalValues(files, "vt.transformer.layers.0.1.fn.fn.net.0.bias");
  const x = RandomStream.derive(3, "noise").uniformArray(32, -1, 1);
  const expected = new Float64Array(64);
  for (let o = 0; o < 64; o++) {
    expected[o] = b[o];
    for (let i = 0; i < 32; i++) expected[o] += w[o * 32 + i] * x[i];
  }
  const p = params.get("encoder.layer0.ff1.w")!;
  const y = await dense(
    tf.tensor2d(x, [1, 32]),
    tf.tensor(p.values, p.shape),
    tf.tensor(params.get("encoder.layer0.ff1.b")!.values),
  )
    .data();
  for (let o = 0; o < 64; o++) assert.ok(Math.abs(y[o] - expected[o]) < 1e-5, `unit ${o}`);
});

Deno.test("mapping: a ConvTranspose2d weight maps so that the harness layer computes PyTorch's transposed convolution", async () => {
  await useCpu();
  const config = smoke();
  const files = harnessToOriginal(randomParams(config, 4), config);
  const params = originalToHarness(files, config);
  const layer = decoderLayers(config)[0]; // ConvT 4×4, stride 2, padding 1: 4 → 8
  const { cin, cout, kernel: k, stride: s, crop: p } = layer;
  const w = originalValues(files, "decoder.decoder2.0.weight"); // [cin, cout, k, k]
  const b = originalValues(files, "decoder.decoder2.0.bias");
  const side = 4, outSide = (side - 1) * s + k - 2 * p;
  const input = RandomStream.derive(5, "noise").uniformArray(cin * side * side, -1, 1); // NCHW
  // PyTorch's definition: out[co, i·s + kh − p, j·s + kw − p] += in[ci, i, j]·W[ci, co, kh, kw].
  const expected = new Float64Array(cout * outSide * outSide);
  for (let co = 0; co < cout; co++) {
    expected.fill(b[co], co * outSide * outSide, (co + 1) * outSide * outSide);
  }
  for (let ci = 0; ci < cin; ci++) {
    for (let i = 0; i < side; i++) {
      for (let j = 0; j < side; j++) {
        for (let co = 0; co < cout; co++) {
          for (let kh = 0; kh < k; kh++) {
            for (let kw = 0; kw < k; kw++) {
              const y = i * s + kh - p, x = j * s + kw - p;
              if (y < 0 || x < 0 || y >= outSide || x >= outSide) continue;
              expected[(co * outSide + y) * outSide + x] += input[(ci * side + i) * side + j] *
                w[((ci * cout + co) * k + kh) * k + kw];
            }
          }
        }
      }
    }
  }
  const nhwc = tf.transpose(tf.tensor4d(input, [1, cin, side, side]), [0, 2, 3, 1]) as tf.Tensor4D;
  const wh = params.get("decoder.layer0.w")!;
  const out = convTranspose(
    nhwc,
    layer,
    tf.tensor(wh.values, wh.shape),
    tf.tensor(params.get("decoder.layer0.b")!.values),
  );
  assert.deepEqual(out.shape, [1, outSide, outSide, cout]);
  const got = await tf.transpose(out, [0, 3, 1, 2]).data();
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(got[i] - expected[i]) < 1e-5, `element ${i}`);
});

Deno.test("mapping: the capsule weights map onto the projection: flatten(e)·M = Σᵢ Wᵢ·uᵢ of DigitCaps", async () => {
  await useCpu();
  const config = smoke(); // N = 64 tokens of D = 32: 256 capsules of 8, 64 outputs
  const files = harnessToOriginal(randomParams(config, 6), config);
  const params = originalToHarness(files, config);
  const W = originalValues(files, "Digcap.W"); // [1, 256, 64, 8]
  const n = 64, d = 32, out = config.projectionDim, caps = (n * d) / 8;
  const encoded = RandomStream.derive(7, "noise").uniformArray(n * d, -1, 1); // [N, D] row-major
  // VT_AE.py:53 views (N, D) as (N·D/8, 8): capsule i holds encoded.flat[8i .. 8i+7]; x̂ᵢ = Wᵢ·uᵢ; s = Σᵢ x̂ᵢ.
  const expected = new Float64Array(out);
  for (let i = 0; i < caps; i++) {
    for (let o = 0; o < out; o++) {
      for (let k = 0; k < 8; k++) expected[o] += W[(i * out + o) * 8 + k] * encoded[8 * i + k];
    }
  }
  const m = params.get("projection.w")!;
  const got = await tf.matMul(
    tf.tensor2d(encoded, [1, n * d]),
    tf.tensor2d(m.values, m.shape as [number, number]),
  ).data();
  for (let o = 0; o < out; o++) assert.ok(Math.abs(got[o] - expected[o]) < 1e-4, `output ${o}`);
});

Deno.test("mapping: weights that do not fit the config are refused with every problem and the fix", () => {
  const config = smoke();
  const files = harnessToOriginal(randomParams(config), config);
  const withK = (k: number): OriginalStateDicts => ({
    vtae: files.vtae,
    mdn: new Map([
      ["pi.weight", float32Tensor([k, 32], new Float32Array(k * 32))],
      ["mu.weight", float32Tensor([32 * k, 32], new Float32Array(32 * k * 32))],
      ["sigma_sq.weight", float32Tensor([32 * k, 32], new Float32Array(32 * k * 32))],
    ]),
  });
  assert.throws(
    () => originalToHarness(withK(5), config, { mdn: "G_estimate_Mvtech_cable.pt" }),
    (e: Error) =>
      e instanceof WeightFileError &&
      /G_estimate_Mvtech_cable\.pt 'pi\.weight' is \(5, 32\), expected \(3, 32\); the file has K = 5 Gaussians: use --set numGaussians=5/
        .test(e.message),
  );
  const missing = new Map(files.vtae);
  missing.delete("decoder.decoder2.3.weight");
  missing.set("vt.transformer.layers.1.0.fn.norm.weight", float32Tensor([32], new Float32Array(32)));
  assert.throws(
    () => originalToHarness({ vtae: missing, mdn: files.mdn }, config),
    /VT_AE file lacks 'decoder\.decoder2\.3\.weight'.*VT_AE file has 1 key\(s\) config 'smoke' .* does not have: 'vt\.transformer\.layers\.1\.0\.fn\.norm\.weight'/,
  );
  const nan = new Map(files.vtae);
  nan.set("vt.cls_token", float32Tensor([1, 1, 32], new Float32Array(32).fill(NaN)));
  assert.throws(
    () => originalToHarness({ vtae: nan, mdn: files.mdn }, config),
    /'vt\.cls_token' holds NaN at element 0/,
  );
  const ints = new Map(files.vtae);
  ints.set("vt.cls_token", { dtype: "I32", shape: [1, 1, 32], data: new Uint8Array(128) });
  assert.throws(
    () => originalToHarness({ vtae: ints, mdn: files.mdn }, config),
    /has dtype I32; expected a float tensor/,
  );
});

Deno.test("mapping: DataParallel's module. prefix is accepted and files are recognised in either order", () => {
  const config = smoke();
  const params = randomParams(config);
  const files = harnessToOriginal(params, config);
  const prefixed = new Map([...files.vtae].map(([k, v]) => [`module.${k}`, v]));
  const pair = assignOriginalFiles([{ source: "G.pt", map: files.mdn }, { source: "V.pt", map: prefixed }]);
  assert.deepEqual(pair.sources, { vtae: "V.pt", mdn: "G.pt" });
  assert.deepEqual(
    originalToHarness(pair, config).get("projection.w")!.values,
    params.get("projection.w")!.values,
  );
  assert.throws(
    () => assignOriginalFiles([{ source: "a.pt", map: files.vtae }, { source: "b.pt", map: files.vtae }]),
    /a\.pt and b\.pt are both VT_AE/,
  );
  assert.throws(
    () => assignOriginalFiles([{ source: "a.pt", map: files.vtae }]),
    /missing the G_estimate_\*\.pt \(MDN\) file/,
  );
  assert.throws(
    () =>
      assignOriginalFiles([{ source: "c.pt", map: new Map([["fc.weight", files.mdn.get("pi.weight")!]]) }]),
    /c\.pt: neither a VT_AE state_dict/,
  );
});
