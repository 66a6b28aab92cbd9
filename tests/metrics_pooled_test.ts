import assert from "node:assert/strict";
import {
  auPro,
  auProWithSharedNormals,
  FPR_MODES,
  pixelAuroc,
  pooledPixelMetrics,
  setKeyArrayAdvisor,
} from "../src/metrics/mod.ts";
import type { MaskMap, ScoreMap } from "../src/metrics/mod.ts";
import { auProBySort } from "../src/metrics/pro.ts";
import { PooledPixelIndex } from "../src/metrics/pixel_index.ts";
import { RandomStream } from "../src/util/rng.ts";

/** A seeded uniform [0, 1) source. */
function rng(seed: number): () => number {
  const stream = RandomStream.derive(seed, "noise");
  return () => stream.uniform();
}

/**
 * Maps of several sizes with blob-like defects (several regions, some touching at corners) in some images
 * and none in others. `levels` > 0 quantises the scores to that many values (heavy ties, also between
 * region pixels, and −0 beside +0); 0 keeps them continuous.
 */
function randomSet(seed: number, levels: number): { maps: ScoreMap[]; masks: MaskMap[] } {
  const random = rng(seed);
  const maps: ScoreMap[] = [], masks: MaskMap[] = [];
  for (let i = 0; i < 7; i++) {
    const width = 5 + Math.floor(random() * 40), height = 3 + Math.floor(random() * 30);
    const mask = new Uint8Array(width * height);
    if (i % 3 !== 0) {
      for (let d = 0; d < 1 + Math.floor(random() * 4); d++) {
        const cx = random() * width, cy = random() * height, r = 1 + random() * 5;
        for (let y = 0; y < height; y++) {
          for (let x = 0; x < width; x++) {
            if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * width + x] = 255;
          }
        }
      }
    }
    const data = new Float32Array(width * height);
    for (let p = 0; p < data.length; p++) {
      let v = random() * 2 - 1 + (mask[p] ? 0.5 * random() : 0);
      if (levels > 0) v = Math.round(v * levels) / levels;
      data[p] = v === 0 && random() < 0.5 ? -0 : v;
    }
    maps.push({ width, height, data });
    masks.push({ width, height, data: mask });
  }
  return { maps, masks };
}

/** The same maps as Float64Array (float32 values), so that pixel AUROC takes its sorting path. */
function asFloat64(maps: ScoreMap[]): ScoreMap[] {
  return maps.map((m) => ({ ...m, data: Float64Array.from(m.data) }));
}

const CASES = [
  { name: "continuous scores", levels: 0 },
  { name: "scores tied on 16 levels", levels: 16 },
  { name: "scores tied on 3 levels", levels: 3 },
];

for (const { name, levels } of CASES) {
  Deno.test(`shared ordering: pixel AUROC and AU-PRO equal the separate and sorting paths bit for bit (${name})`, () => {
    for (let seed = 1; seed <= 6; seed++) {
      const { maps, masks } = randomSet(seed * 7 + levels, levels);
      for (const fprMode of FPR_MODES) {
        for (const integrationLimit of [0.3, 0.05, 1]) {
          const options = { integrationLimit, fprMode };
          const shared = pooledPixelMetrics(maps, masks, options);
          const alone = auPro(maps, masks, options);
          const sorted = auProBySort(maps, masks, options);
          assert.equal(shared.auPro.auPro, alone.auPro);
          assert.equal(
            shared.auPro.auPro,
            sorted.auPro,
            `seed ${seed}, ${fprMode}, limit ${integrationLimit}`,
          );
          assert.equal(shared.auPro.nCurvePoints, sorted.nCurvePoints);
          assert.deepEqual(shared.auPro.curve, alone.curve);
          assert.equal(shared.auPro.nRegions, sorted.nRegions);
          assert.equal(shared.auPro.nOkPixels, sorted.nOkPixels);
        }
      }
      const shared = pooledPixelMetrics(maps, masks);
      assert.equal(shared.pixelAuroc, pixelAuroc(maps, masks));
      assert.equal(shared.pixelAuroc, pixelAuroc(asFloat64(maps), masks)); // the sorting path
    }
  });
}

Deno.test("shared ordering: scores spread over many buckets, defects in few, still exact", () => {
  // Normals span 20 binary orders of magnitude (thousands of top-16-bit buckets); defects sit in two of
  // them, so most normal buckets are counted as wholes by pixel AUROC.
  const random = rng(99);
  const width = 64, height = 64;
  const data = new Float32Array(width * height), mask = new Uint8Array(width * height);
  for (let p = 0; p < data.length; p++) {
    mask[p] = p % 17 === 0 ? 1 : 0;
    data[p] = mask[p] ? 1 + (p % 3) / 8 : 2 ** (random() * 20 - 10) * (random() < 0.2 ? -1 : 1);
  }
  const maps = [{ width, height, data }], masks = [{ width, height, data: mask }];
  const shared = pooledPixelMetrics(maps, masks, { integrationLimit: 0.6 });
  assert.equal(shared.pixelAuroc, pixelAuroc(asFloat64(maps), masks));
  assert.equal(shared.auPro.auPro, auProBySort(maps, masks, { integrationLimit: 0.6 }).auPro);
});

Deno.test("shared ordering: without both classes pixel AUROC is null and AU-PRO the flagged 0.15", () => {
  const map = { width: 3, height: 1, data: new Float32Array([0.1, 0.5, 0.2]) };
  const none = pooledPixelMetrics([map], [{ width: 3, height: 1, data: new Uint8Array(3) }]);
  assert.equal(none.pixelAuroc, null);
  assert.equal(none.auPro.auPro, 0.15);
  assert.equal(none.auPro.degenerate, true);
  const all = pooledPixelMetrics([map], [{ width: 3, height: 1, data: new Uint8Array([1, 1, 1]) }]);
  assert.equal(all.pixelAuroc, null);
  assert.equal(all.auPro.degenerate, true);
  assert.equal(all.auPro.nRegions, 1);
});

Deno.test("shared ordering: float64 maps that float32 cannot hold take the general path", () => {
  const data = new Float64Array([0.1, 0.1 + 1e-12, 0.3, 0.7]);
  const maps = [{ width: 4, height: 1, data }];
  const masks = [{ width: 4, height: 1, data: new Uint8Array([0, 1, 0, 1]) }];
  const shared = pooledPixelMetrics(maps, masks);
  assert.equal(shared.auPro.scoreDtype, "float64");
  assert.equal(shared.pixelAuroc, 0.75); // 0.1+1e-12 beats 0.1 only; 0.7 beats both
  assert.equal(shared.auPro.auPro, auPro(maps, masks).auPro);
});

Deno.test("shared ordering: a NaN score names image and pixel", () => {
  const maps = [
    { width: 2, height: 1, data: new Float32Array([0.1, 0.2]) },
    { width: 2, height: 1, data: new Float32Array([0.3, NaN]) },
  ];
  const masks = maps.map(() => ({ width: 2, height: 1, data: new Uint8Array([1, 0]) }));
  assert.throws(
    () => pooledPixelMetrics(maps, masks),
    /anomaly map 1: score at pixel 1 \(row 0, column 1\) is NaN/,
  );
});

Deno.test("the pixel index visits every distinct score from the top, with its normal and defect counts", () => {
  const values = [0.5, -0, 0.25, 0.5, 0, 3, -1, 0.25, 0.5];
  const labels = [0, 1, 1, 1, 0, 0, 0, 1, 0];
  const maps = [{ width: 9, height: 1, data: new Float32Array(values) }];
  const masks = [{ width: 9, height: 1, data: new Uint8Array(labels) }];
  const index = new PooledPixelIndex(maps, masks);
  assert.equal(index.nDefect, 4);
  assert.equal(index.nNormal, 5);
  index.record({ normalFrom: 0, normalWhereDefect: false, defectFrom: 0, weighted: false });
  const visits: [number, number][] = [];
  index.walk((normal, defect) => visits.push([normal, defect]));
  // 3: 1 normal; 0.5: 2 normal + 1 defect; 0.25: 2 defect; ±0: 1 normal + 1 defect (−0 ties +0); −1: 1 normal.
  assert.deepEqual(visits, [[1, 0], [2, 1], [0, 2], [1, 1], [1, 0]]);
});

Deno.test("the pixel index counts a bucket without defects as one group when its normals are not recorded", () => {
  const maps = [{ width: 4, height: 1, data: new Float32Array([1000, 1001, 0.5, 0.25]) }];
  const masks = [{ width: 4, height: 1, data: new Uint8Array([0, 0, 1, 0]) }];
  const index = new PooledPixelIndex(maps, masks);
  index.record({ normalFrom: 65536, normalWhereDefect: true, defectFrom: 0, weighted: false });
  const visits: [number, number][] = [];
  index.walk((normal, defect) => visits.push([normal, defect]));
  assert.deepEqual(visits, [[2, 0], [0, 1], [1, 0]]); // 1000 and 1001 share a bucket
  const unrecorded = new PooledPixelIndex(maps, masks);
  unrecorded.record({ normalFrom: 65536, normalWhereDefect: false, defectFrom: 65536, weighted: false });
  assert.throws(() => unrecorded.walk(() => {}), /holds defect pixels but was not recorded/);
});

/** `randomSet`'s defect-free images as the shared set, its other images split into two groups. */
function sharedAndGroups(set: { maps: ScoreMap[]; masks: MaskMap[] }) {
  const pick = (idx: number[]) => ({
    maps: idx.map((i) => set.maps[i]),
    masks: idx.map((i) => set.masks[i]),
  });
  return { shared: pick([0, 3, 6]), groups: [pick([1, 4]), pick([2, 5])] };
}

for (const { name, levels } of CASES) {
  Deno.test(`AU-PRO with shared normal images equals auPro of each group with them, bit for bit (${name})`, () => {
    for (let seed = 1; seed <= 5; seed++) {
      const { shared, groups } = sharedAndGroups(randomSet(seed, levels));
      for (const fprMode of FPR_MODES) {
        for (const integrationLimit of [0.3, 0.05, 1]) {
          const options = { fprMode, integrationLimit };
          const together = auProWithSharedNormals(shared, groups, options);
          const apart = groups.map((g) =>
            auPro([...shared.maps, ...g.maps], [...shared.masks, ...g.masks], options)
          );
          assert.deepEqual(together, apart, `seed ${seed}, ${fprMode}, limit ${integrationLimit}`);
        }
      }
    }
  });
}

Deno.test("AU-PRO with shared normal images: big tied buckets (histogram path), no shared image, a group without defects", () => {
  const random = rng(11);
  const image = (defect: boolean, side: number) => {
    const mask = new Uint8Array(side * side);
    if (defect) {
      for (let y = 4; y < 4 + Math.floor(side / 3); y++) mask.fill(1, y * side + 3, y * side + side / 2);
    }
    const data = Float32Array.from(mask, (m) => Math.round((random() + (m ? 0.4 : 0)) * 4) / 4);
    return { map: { width: side, height: side, data }, mask: { width: side, height: side, data: mask } };
  };
  const set = (images: { map: ScoreMap; mask: MaskMap }[]) => ({
    maps: images.map((i) => i.map),
    masks: images.map((i) => i.mask),
  });
  // Tied on 5 levels: each bucket holds about 1,000 pixels per image, so the shared and the group lists of
  // a bucket stay under the histogram threshold apart and pass it together.
  const shared = set([image(false, 70), image(false, 70)]);
  const groups = [set([image(true, 70)]), set([image(true, 64), image(true, 70)]), set([image(false, 70)])];
  const apart = groups.map((g) => auPro([...shared.maps, ...g.maps], [...shared.masks, ...g.masks]));
  assert.deepEqual(auProWithSharedNormals(shared, groups), apart);
  assert.equal(apart[2].degenerate, true);
  const none = { maps: [], masks: [] };
  assert.deepEqual(
    auProWithSharedNormals(none, groups.slice(0, 2)),
    groups.slice(0, 2).map((g) => auPro(g.maps, g.masks)),
  );
});

Deno.test("AU-PRO with shared normal images: float64 maps and a shared image with a defect fall back to auPro per group", () => {
  const { shared, groups } = sharedAndGroups(randomSet(3, 0));
  const wide = groups.map((g) => ({
    ...g,
    maps: g.maps.map((m) => ({ ...m, data: Float64Array.from(m.data, (v) => v + 1e-12) })),
  }));
  const apartWide = wide.map((g) => auPro([...shared.maps, ...g.maps], [...shared.masks, ...g.masks]));
  assert.deepEqual(auProWithSharedNormals(shared, wide), apartWide);
  assert.equal(apartWide[0].scoreDtype, "float64");
  const spotted = {
    maps: shared.maps,
    masks: shared.masks.map((m, i) => (i === 0 ? groups[0].masks[0] : m)),
  };
  spotted.maps = [groups[0].maps[0], ...shared.maps.slice(1)];
  const apartSpotted = groups.map((g) => auPro([...spotted.maps, ...g.maps], [...spotted.masks, ...g.masks]));
  assert.deepEqual(auProWithSharedNormals(spotted, groups), apartSpotted);
});

Deno.test("key array advisor: sees every key array before it is written and changes no number", () => {
  const { maps, masks } = randomSet(4, 16);
  const plain = pooledPixelMetrics(maps, masks);
  const seen: { bytes: number; zero: boolean }[] = [];
  setKeyArrayAdvisor((buffer) =>
    seen.push({ bytes: buffer.byteLength, zero: new Uint8Array(buffer).every((b) => b === 0) })
  );
  try {
    assert.deepEqual(pooledPixelMetrics(maps, masks), plain);
  } finally {
    setKeyArrayAdvisor(() => {});
  }
  const pixels = maps.reduce((n, m) => n + m.data.length, 0);
  // Normal keys (2 bytes each), defect keys and their weights (8 bytes each): all recorded here.
  assert.ok(seen.length >= 3 && seen.every((s) => s.zero), JSON.stringify(seen));
  assert.equal(seen.reduce((n, s) => n + s.bytes, 0) >= 2 * pixels, true);
});
