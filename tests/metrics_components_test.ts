import assert from "node:assert/strict";
import { labelRegions8 } from "../src/metrics/mod.ts";

Deno.test("pixels touching only at a corner form one region (8-connectivity)", () => {
  // 1 0 0
  // 0 1 0
  // 0 0 1
  const { count, sizes } = labelRegions8(new Uint8Array([1, 0, 0, 0, 1, 0, 0, 0, 1]), 3, 3);
  assert.equal(count, 1);
  assert.equal(sizes[1], 3);
});

Deno.test("regions are numbered in scan order of their first pixel, with their sizes", () => {
  // 0 2 0 0 5
  // 0 0 0 0 5
  // 9 9 0 0 0   → regions: {(1,0)}, {(4,0),(4,1)}, {(0,2),(1,2)}
  const mask = new Uint8Array([0, 2, 0, 0, 5, 0, 0, 0, 0, 5, 9, 9, 0, 0, 0]);
  const { labels, count, sizes } = labelRegions8(mask, 5, 3);
  assert.equal(count, 3);
  assert.deepEqual(Array.from(labels), [0, 1, 0, 0, 2, 0, 0, 0, 0, 2, 3, 3, 0, 0, 0]);
  assert.deepEqual(Array.from(sizes), [0, 1, 2, 2]);
});

Deno.test("a U shape whose arms meet late is merged into one region", () => {
  // 1 0 1
  // 1 0 1
  // 1 1 1   → first row starts two provisional labels, merged at the bottom row.
  const { labels, count, sizes } = labelRegions8(new Uint8Array([1, 0, 1, 1, 0, 1, 1, 1, 1]), 3, 3);
  assert.equal(count, 1);
  assert.equal(sizes[1], 7);
  assert.ok(Array.from(labels).every((l, i) => (l === 1) === [0, 2, 3, 5, 6, 7, 8].includes(i)));
});

Deno.test("an empty mask has no region; a full one has one", () => {
  assert.equal(labelRegions8(new Uint8Array(6), 3, 2).count, 0);
  const full = labelRegions8(new Uint8Array(6).fill(255), 2, 3);
  assert.equal(full.count, 1);
  assert.equal(full.sizes[1], 6);
});
