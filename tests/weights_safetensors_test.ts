import assert from "node:assert/strict";
import { encodeSafetensors, readSafetensors } from "../src/weights/safetensors.ts";
import { float32Tensor, toFloat32, type WeightMap } from "../src/weights/tensor.ts";

/** A safetensors file assembled by hand from the spec: u64 LE header length, JSON header, data. */
function handmade(header: string, data: number[] = []): Uint8Array {
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + head.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(head.length), true);
  out.set(head, 8);
  out.set(data, 8 + head.length);
  return out;
}

const f32 = (...v: number[]) => Array.from(new Uint8Array(Float32Array.from(v).buffer));

Deno.test("safetensors: a file assembled from the spec is read with its metadata and tensors", () => {
  const bytes = handmade(
    '{"__metadata__":{"format":"pt"},"b":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},' +
      '"a":{"dtype":"F32","shape":[1,2],"data_offsets":[0,8]}}  ',
    [...f32(1, 2), ...f32(3, 4)],
  );
  const { tensors, metadata } = readSafetensors(bytes, "m.safetensors");
  assert.deepEqual(metadata, { format: "pt" });
  assert.deepEqual([...tensors.keys()], ["b", "a"]);
  assert.deepEqual(tensors.get("a")!.shape, [1, 2]);
  assert.deepEqual(Array.from(toFloat32(tensors.get("a")!)), [1, 2]);
  assert.deepEqual(Array.from(toFloat32(tensors.get("b")!)), [3, 4]);
});

Deno.test("safetensors: encode → read round-trips tensors, dtypes, order and metadata; header is 8-aligned", () => {
  const counter = new Uint8Array(8);
  new DataView(counter.buffer).setBigInt64(0, -5n, true);
  const tensors: WeightMap = new Map([
    ["vt.pos_embedding", float32Tensor([1, 3, 2], Float32Array.of(1, 2, 3, 4, 5, 6))],
    ["decoder.decoder2.1.num_batches_tracked", { dtype: "I64", shape: [], data: counter }],
    ["empty", float32Tensor([0, 4], new Float32Array(0))],
  ]);
  const bytes = encodeSafetensors(tensors, { source: "vtadl-bench", layout: "original" });
  const headerLength = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0);
  const back = readSafetensors(bytes, "x");
  assert.deepEqual(back.metadata, { source: "vtadl-bench", layout: "original" });
  assert.deepEqual([...back.tensors.keys()], [...tensors.keys()]);
  for (const [k, t] of tensors) {
    assert.equal(back.tensors.get(k)!.dtype, t.dtype);
    assert.deepEqual(back.tensors.get(k)!.shape, t.shape);
    assert.deepEqual(Array.from(back.tensors.get(k)!.data), Array.from(t.data));
  }
});

Deno.test("safetensors: malformed headers are refused with the reason", () => {
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array(5), /too short for a safetensors header length/],
    [
      (() => {
        const b = handmade("{}");
        new DataView(b.buffer).setBigUint64(0, 1n << 40n, true);
        return b;
      })(),
      /exceeds 100 MB/,
    ],
    [handmade("{}").slice(0, 9), /runs past the end .* truncated/],
    [handmade("[1, 2]"), /header does not start with '\{'/],
    [handmade("{not json}"), /header is not valid UTF-8 JSON/],
    [
      handmade('{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}', [0]),
      /dtype "F8_E4M3"; supported: F64, F32/,
    ],
    [handmade('{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', f32(1)), /shape \[-1\]/],
    [
      handmade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', f32(1)),
      /needs 8 bytes, its data_offsets \[0, 4\] give 4/,
    ],
    [
      handmade('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}', f32(1)),
      /ends at byte 8 of a 4-byte data buffer; the file is truncated/,
    ],
    [
      handmade(
        '{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}',
        f32(1, 2, 3),
      ),
      /bytes 4\.\.8 of the data buffer belong to no tensor/,
    ],
    [
      handmade(
        '{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}',
        f32(1, 2),
      ),
      /entry 'b' overlaps the previous tensor/,
    ],
    [
      handmade('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', f32(1, 2)),
      /4 bytes after the last tensor/,
    ],
    [handmade('{"__metadata__":{"n":1}}'), /__metadata__ value of 'n' is not a string/],
  ];
  for (const [bytes, pattern] of cases) {
    assert.throws(() => readSafetensors(bytes, "bad.safetensors"), pattern);
  }
});
