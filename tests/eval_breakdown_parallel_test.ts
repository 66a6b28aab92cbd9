import assert from "node:assert/strict";
import { defectBreakdown } from "../src/eval/breakdown.ts";
import { defectBreakdownInWorker } from "../src/eval/breakdown_parallel.ts";
import type { MaskMap, ScoreMap } from "../src/metrics/mod.ts";
import { RandomStream } from "../src/util/rng.ts";

/** Good images and three defect types with square defects; maps in a SharedArrayBuffer when `shared`. */
function breakdownCase(shared: boolean) {
  const random = RandomStream.derive(5, "noise");
  const side = 32, types = ["good", "crack", "good", "hole", "scratch", "crack", "good", "hole"];
  const maps: ScoreMap[] = [], masks: MaskMap[] = [];
  for (let i = 0; i < types.length; i++) {
    const mask = new Uint8Array(side * side);
    if (types[i] !== "good") {
      for (let y = 3 + i; y < 9 + i; y++) mask.fill(1, y * side + 4, y * side + 4 + 2 * i);
    }
    const buffer = shared ? new SharedArrayBuffer(side * side * 4) : new ArrayBuffer(side * side * 4);
    const data = new Float32Array(buffer);
    for (let p = 0; p < data.length; p++) data[p] = random.uniform() + (mask[p] ? 0.3 : 0);
    maps.push({ width: side, height: side, data });
    masks.push({ width: side, height: side, data: mask });
  }
  const labels = types.map((t) => (t === "good" ? 0 : 1));
  const scores = maps.map((m) => Math.max(...m.data));
  return { defectTypes: types, labels, scores, maps, masks };
}

Deno.test("breakdown in a worker: the same rows as on this thread, with shared and with copied maps", async () => {
  for (const shared of [true, false]) {
    const input = breakdownCase(shared);
    const here = defectBreakdown(input)!;
    assert.equal(here.rows.length, 3);
    assert.deepEqual(await defectBreakdownInWorker(input).result, here);
  }
});

Deno.test("breakdown in a worker: an error there rejects with its message; a cancelled one leaves nothing running", async () => {
  const input = breakdownCase(true);
  const bad = { ...input, scores: input.scores.slice(1) };
  await assert.rejects(
    defectBreakdownInWorker(bad).result,
    /defectBreakdown: 8 labels, 8 defect types and 7 scores/,
  );
  const pending = defectBreakdownInWorker(input);
  pending.cancel();
});
