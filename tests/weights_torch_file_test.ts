import assert from "node:assert/strict";
import { unzipSync, zipSync } from "fflate";
import { encodeTorchStateDict, readTorchStateDict } from "../src/weights/torch_file.ts";
import { float32Tensor, toFloat32, WeightFileError, type WeightMap } from "../src/weights/tensor.ts";
import { TORCH_FIXTURE_PT, TORCH_FIXTURE_VALUES } from "./fixtures/torch_state_dict.ts";

Deno.test("torch file: a state_dict written by PyTorch reads with its dtypes, shapes, strides and offsets", () => {
  const sd = readTorchStateDict(TORCH_FIXTURE_PT, "fixture.pt");
  assert.deepEqual([...sd.keys()], Object.keys(TORCH_FIXTURE_VALUES));
  for (const [key, expected] of Object.entries(TORCH_FIXTURE_VALUES)) {
    const t = sd.get(key)!;
    assert.equal(t.dtype, expected.dtype, key);
    assert.deepEqual(t.shape, expected.shape, key);
    if (t.dtype === "F64") {
      const view = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
      assert.deepEqual([view.getFloat64(0, true), view.getFloat64(8, true)], expected.values, key);
    } else {
      assert.deepEqual(Array.from(toFloat32(t)), expected.values.map(Math.fround), key);
    }
  }
});

/** A small state_dict in the harness's tensor form. */
function sample(): WeightMap {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigInt64(0, 42n, true);
  return new Map([
    ["w", float32Tensor([2, 3], Float32Array.of(1, 2, 3, 4, 5, 6))],
    ["b", float32Tensor([3], Float32Array.of(-1, 0.5, 1e-8))],
    ["big", float32Tensor([300], new Float32Array(300).map((_, i) => i / 7))],
    ["n", { dtype: "I64", shape: [], data: counter }],
  ]);
}

Deno.test("torch file: the encoder writes what the reader reads back, in order, bit for bit", () => {
  const original = sample();
  const bytes = encodeTorchStateDict(original, { archiveName: "VT_AE_Mvtech_x" });
  const names = Object.keys(unzipSync(bytes));
  assert.ok(names.includes("VT_AE_Mvtech_x/data.pkl") && names.includes("VT_AE_Mvtech_x/data/0"));
  const back = readTorchStateDict(bytes, "x.pt");
  assert.deepEqual([...back.keys()], [...original.keys()]);
  for (const [k, t] of original) {
    assert.equal(back.get(k)!.dtype, t.dtype);
    assert.deepEqual(back.get(k)!.shape, t.shape);
    assert.deepEqual(Array.from(back.get(k)!.data), Array.from(t.data));
  }
});

Deno.test("torch file: a truncated archive is refused as truncated or damaged", () => {
  const bytes = encodeTorchStateDict(sample());
  for (const cut of [bytes.length - 1, bytes.length - 30, Math.floor(bytes.length / 2)]) {
    assert.throws(
      () => readTorchStateDict(bytes.slice(0, cut), "cut.pt"),
      (e: Error) =>
        e instanceof WeightFileError &&
        /cut\.pt: not a complete zip archive .*truncated or damaged/.test(e.message),
    );
  }
});

/** Rewrites one entry of a torch zip. */
function replaceEntry(bytes: Uint8Array, suffix: string, data: Uint8Array): Uint8Array {
  const entries: Record<string, Uint8Array> = unzipSync(bytes);
  const name = Object.keys(entries).find((n) => n.endsWith(suffix))!;
  entries[name] = data;
  return zipSync(Object.fromEntries(Object.entries(entries).map(([n, d]) => [n, [d, { level: 0 }]])));
}

Deno.test("torch file: a storage shorter than its tensor is refused naming the storage", () => {
  const bytes = encodeTorchStateDict(sample());
  // 'w' is storage 0 with 6 floats; cut it to 5.
  const damaged = replaceEntry(bytes, "/data/0", new Uint8Array(20));
  assert.throws(
    () => readTorchStateDict(damaged, "short.pt"),
    /short\.pt: storage archive\/data\/0 holds 20 bytes, but its header says 6 F32 elements \(24 bytes\)/,
  );
});

/** Pickle opcodes of `torch.save` for one tensor entry, with chosen storage numel, offset, size and stride. */
function tensorEntryPickle(numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const out: number[] = [];
  const text = (s: string) => out.push(...new TextEncoder().encode(s));
  const uni = (s: string) => {
    out.push(0x58, s.length, 0, 0, 0);
    text(s);
  };
  const tuple = (v: number[]) => {
    out.push(0x28);
    for (const x of v) out.push(0x4b, x);
    out.push(0x74);
  };
  out.push(0x80, 2, 0x63);
  text("collections\nOrderedDict\n");
  out.push(0x29, 0x52, 0x28);
  uni("t");
  out.push(0x63);
  text("torch._utils\n_rebuild_tensor_v2\n");
  out.push(0x28, 0x28);
  uni("storage");
  out.push(0x63);
  text("torch\nFloatStorage\n");
  uni("0");
  uni("cuda:0");
  out.push(0x4b, numel, 0x74, 0x51, 0x4b, offset);
  tuple(size);
  tuple(stride);
  out.push(0x89, 0x63);
  text("collections\nOrderedDict\n");
  out.push(0x29, 0x52, 0x74, 0x52, 0x75, 0x2e);
  return Uint8Array.from(out);
}

function archiveWith(pickle: Uint8Array, storage: Float32Array): Uint8Array {
  return zipSync({
    "archive/data.pkl": [pickle, { level: 0 }],
    "archive/data/0": [new Uint8Array(storage.buffer), { level: 0 }],
    "archive/version": [new TextEncoder().encode("3\n"), { level: 0 }],
  });
}

Deno.test("torch file: a tensor whose view reaches past its storage is refused", () => {
  const storage = Float32Array.of(0, 1, 2, 3, 4, 5);
  // (2, 3) with offset 1 reads elements 1..6 of a 6-element storage.
  const bytes = archiveWith(tensorEntryPickle(6, 1, [2, 3], [3, 1]), storage);
  assert.throws(
    () => readTorchStateDict(bytes, "view.pt"),
    /tensor 't' \(2, 3\) reads storage element 6, but storage data\/0 holds 6; the storage is shorter than its tensor/,
  );
  // The same storage read as a (3, 2) transposed view with offset 0 is fine (GPU location accepted).
  const ok = readTorchStateDict(archiveWith(tensorEntryPickle(6, 0, [3, 2], [1, 3]), storage), "ok.pt");
  assert.deepEqual(Array.from(toFloat32(ok.get("t")!)), [0, 3, 1, 4, 2, 5]);
});

Deno.test("torch file: a pickle naming any other global is refused and never executed", () => {
  const evil = new Uint8Array([
    0x80,
    2,
    0x63,
    ...new TextEncoder().encode("posix\nsystem\n"),
    0x58,
    4,
    0,
    0,
    0,
    ...new TextEncoder().encode("true"),
    0x85,
    0x52,
    0x2e,
  ]);
  const bytes = replaceEntry(encodeTorchStateDict(sample()), "/data.pkl", evil);
  assert.throws(
    () => readTorchStateDict(bytes, "evil.pt"),
    (e: Error) =>
      e instanceof WeightFileError &&
      /evil\.pt:archive\/data\.pkl: refusing global 'posix\.system'/.test(e.message) &&
      /nothing in it was executed/.test(e.message),
  );
});

Deno.test("torch file: other files are refused with what to do", () => {
  assert.throws(
    () => readTorchStateDict(new Uint8Array([0x80, 2, 0x8a, 0x0a]), "old.pt"),
    /legacy \(PyTorch < 1\.6\) serialization.*save it again with PyTorch ≥ 1\.6/,
  );
  assert.throws(
    () => readTorchStateDict(new TextEncoder().encode("hello"), "x.txt"),
    /not a PyTorch state_dict file/,
  );
  // A checkpoint dict {'epoch': 3} is not a state_dict.
  const checkpoint = new Uint8Array([
    0x80,
    2,
    0x7d,
    0x58,
    5,
    0,
    0,
    0,
    ...new TextEncoder().encode("epoch"),
    0x4b,
    3,
    0x73,
    0x2e,
  ]);
  assert.throws(
    () => readTorchStateDict(replaceEntry(encodeTorchStateDict(sample()), "/data.pkl", checkpoint), "ck.pt"),
    /entry 'epoch' is not a tensor; expected a plain state_dict/,
  );
});

Deno.test("torch file: big-endian archives (byteorder 'big') are byte-swapped", () => {
  const storage = new Uint8Array(8);
  new DataView(storage.buffer).setFloat32(0, 1.5, false);
  new DataView(storage.buffer).setFloat32(4, -2, false);
  const bytes = zipSync({
    "archive/data.pkl": [tensorEntryPickle(2, 0, [2], [1]), { level: 0 }],
    "archive/byteorder": [new TextEncoder().encode("big"), { level: 0 }],
    "archive/data/0": [storage, { level: 0 }],
  });
  assert.deepEqual(Array.from(toFloat32(readTorchStateDict(bytes, "be.pt").get("t")!)), [1.5, -2]);
});
