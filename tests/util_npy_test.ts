import assert from "node:assert/strict";
import { join } from "node:path";
import { encodeNpyArray, parseNpyArray, readNpy, writeNpy } from "../src/util/npy.ts";

Deno.test("npy: the encoder writes the bytes np.save writes (header padded to 64, version 1.0)", () => {
  const bytes = encodeNpyArray({ shape: [2, 2], data: Float32Array.of(1.5, -2, 0, 3) });
  // np.save(b, np.array([[1.5, -2], [0, 3]], dtype=np.float32)) with NumPy 2.4: 144 bytes, header length 0x76.
  assert.equal(bytes.length, 144);
  assert.deepEqual(Array.from(bytes.subarray(0, 10)), [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0]);
  const header = new TextDecoder().decode(bytes.subarray(10, 128));
  assert.equal(header, "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }" + " ".repeat(58) + "\n");
  assert.deepEqual(Array.from(new Float32Array(bytes.slice(128).buffer)), [1.5, -2, 0, 3]);
  const one = new TextDecoder().decode(
    encodeNpyArray({ shape: [1], data: Float64Array.of(0.25) }).subarray(10, 70),
  );
  assert.ok(one.startsWith("{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }"));
});

Deno.test("npy: arrays of any rank round-trip through a file, float32 and float64", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-npy-" });
  try {
    const cases = [
      { shape: [2, 3, 4, 3], data: new Float32Array(72).map((_, i) => i / 3) },
      { shape: [5], data: Float64Array.of(0.1, 1e-300, -7, 2 ** 60, 0) },
      { shape: [], data: Float64Array.of(42) },
    ];
    for (const [i, array] of cases.entries()) {
      const path = join(dir, `${i}.npy`);
      await writeNpy(path, array);
      const back = await readNpy(path);
      assert.deepEqual(back.shape, array.shape);
      assert.equal(back.data.constructor, array.data.constructor);
      assert.deepEqual(Array.from(back.data), Array.from(array.data));
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("npy: other dtypes, Fortran order and short data are refused naming the file", () => {
  const good = encodeNpyArray({ shape: [3], data: Float32Array.of(1, 2, 3) });
  const withHeader = (from: string, to: string) => {
    const out = good.slice();
    const at = new TextDecoder().decode(good.subarray(10, 128)).indexOf(from) + 10;
    out.set(new TextEncoder().encode(to), at);
    return out;
  };
  assert.throws(
    () => parseNpyArray(withHeader("<f4", ">f4"), "be.npy"),
    /be\.npy: dtype '>f4' is not supported/,
  );
  assert.throws(() => parseNpyArray(withHeader("False", "True "), "f.npy"), /f\.npy: Fortran-order array/);
  assert.throws(
    () => parseNpyArray(good.slice(0, good.length - 1), "t.npy"),
    /t\.npy: truncated: 11 data bytes, expected 12/,
  );
  assert.throws(() => parseNpyArray(new Uint8Array(12), "z.npy"), /z\.npy: not a \.npy file/);
  assert.throws(
    () => encodeNpyArray({ shape: [2, 2], data: new Float32Array(3) }),
    /3 values do not fill shape \(2, 2\)/,
  );
});
