import assert from "node:assert/strict";
import { RandomStream } from "../src/util/rng.ts";

Deno.test("same seed and stream give the same values; streams and seeds differ", () => {
  const a = RandomStream.derive(42, "init").normalArray(100, 1);
  assert.deepEqual(a, RandomStream.derive(42, "init").normalArray(100, 1));
  assert.notDeepEqual(a, RandomStream.derive(43, "init").normalArray(100, 1));
  assert.notDeepEqual(a, RandomStream.derive(42, "noise").normalArray(100, 1));
});

Deno.test("a stream restored from its state continues identically", () => {
  const s = RandomStream.derive(7, "noise");
  s.normalArray(3, 1); // leaves a Box-Muller spare
  const restored = RandomStream.fromState(JSON.parse(JSON.stringify(s.state())));
  assert.deepEqual(restored.normalArray(10, 1), s.normalArray(10, 1));
  assert.deepEqual(restored.permutation(20), s.permutation(20));
});

Deno.test("normal draws have mean ≈ 0 and std ≈ 1; permutations are permutations", () => {
  const v = RandomStream.derive(1, "init").normalArray(20000, 1);
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  const std = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
  assert.ok(Math.abs(mean) < 0.03 && Math.abs(std - 1) < 0.03, `${mean} ${std}`);
  const p = RandomStream.derive(1, "shuffle").permutation(50);
  assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.notDeepEqual(p, Array.from({ length: 50 }, (_, i) => i));
});
