import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { MapReader, readAnomalyMap, readMask, readTiffMap } from "../src/cli/map_files.ts";
import { auPro } from "../src/metrics/mod.ts";
import { TREE_CATEGORY, TREE_DEFECTS, writeEvaluateTree } from "../benchmarks/evaluate_tree.ts";
import { evaluateTree } from "../src/cli/evaluate.ts";
import { encodeFloatTiff } from "./helpers/float_tiff.ts";
import { writeMvtecTree } from "./helpers/fixtures.ts";

async function withDir<T>(f: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-read-" });
  try {
    return await f(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const ramp = (n: number, scale: number) => Float32Array.from({ length: n }, (_, i) => (i - 3) * scale);

Deno.test("MapReader: maps read one after another keep their own values", async () => {
  await withDir(async (dir) => {
    const big = ramp(40 * 30, 0.37), small = ramp(3 * 2, -1.5);
    await Deno.writeFile(join(dir, "big.tiff"), encodeFloatTiff(40, 30, big));
    await Deno.writeFile(join(dir, "small.tiff"), encodeFloatTiff(3, 2, small));
    const reader = new MapReader();
    const a = await reader.map(join(dir, "big.tiff"));
    const b = await reader.map(join(dir, "small.tiff"));
    const c = await reader.map(join(dir, "big.tiff"));
    assert.deepEqual([a.width, a.height, b.width, b.height], [40, 30, 3, 2]);
    assert.deepEqual(a.data, big);
    assert.deepEqual(b.data, small);
    assert.deepEqual(c.data, big);
    c.data[0] = 1234.5; // the two reads of big.tiff do not share memory
    assert.deepEqual(a.data, big);
  });
});

Deno.test("float TIFF maps in several strips or big-endian are read bit for bit", () => {
  const f32 = ramp(7 * 5, 1 / 3), f64 = Float64Array.from(f32, (v) => v + 1e-12);
  for (const layout of [{ rowsPerStrip: 2 }, { bigEndian: true }, { rowsPerStrip: 3, bigEndian: true }]) {
    assert.deepEqual(readTiffMap(encodeFloatTiff(7, 5, f32, layout), "m.tiff").data, f32);
    assert.deepEqual(readTiffMap(encodeFloatTiff(7, 5, f64, layout), "m.tiff").data, f64);
  }
});

Deno.test("a TIFF whose strip runs past the end of the file is an error naming it", async () => {
  const bytes = encodeFloatTiff(4, 4, ramp(16, 1)).slice(0, 170);
  assert.throws(() => readTiffMap(bytes, "cut.tiff"), /cut\.tiff/);
  await withDir(async (dir) => {
    await Deno.writeFile(join(dir, "cut.tiff"), bytes);
    await assert.rejects(new MapReader().map(join(dir, "cut.tiff")), /cut\.tiff/);
  });
});

Deno.test("PNG masks: 16-bit, grey + alpha, RGBA and palette images mark non-zero colours only", async () => {
  await withDir(async (dir) => {
    const reader = new MapReader();
    const write = async (name: string, png: Parameters<typeof encodePng>[0]) => {
      await Deno.writeFile(join(dir, name), encodePng(png));
      return Array.from((await reader.mask(join(dir, name))).data);
    };
    // 16-bit: a value of 1 (of 65535) is still a defect.
    assert.deepEqual(
      await write("16.png", {
        width: 3,
        height: 1,
        depth: 16,
        channels: 1,
        data: Uint16Array.of(0, 1, 65535),
      }),
      [0, 1, 1],
    );
    // Grey + alpha: alpha alone does not make a defect.
    assert.deepEqual(
      await write("ga.png", {
        width: 2,
        height: 1,
        depth: 8,
        channels: 2,
        data: Uint8Array.of(0, 255, 9, 0),
      }),
      [0, 1],
    );
    assert.deepEqual(
      await write("rgba.png", {
        width: 3,
        height: 1,
        depth: 8,
        channels: 4,
        data: Uint8Array.of(0, 0, 0, 255, 0, 0, 7, 0, 1, 0, 0, 255),
      }),
      [0, 1, 1],
    );
    // Palette: the colour counts, not the index (index 1 is black here).
    assert.deepEqual(
      await write("pal.png", {
        width: 4,
        height: 1,
        depth: 8,
        channels: 1,
        palette: [[255, 255, 255], [0, 0, 0]],
        data: Uint8Array.of(0, 1, 1, 0),
      }),
      [1, 0, 0, 1],
    );
    // 1-bit grey (decoded by sharp).
    assert.deepEqual(
      await write("1bit.png", {
        width: 8,
        height: 1,
        depth: 1,
        channels: 1,
        data: Uint8Array.of(0b10100000),
      }),
      [1, 0, 1, 0, 0, 0, 0, 0],
    );
  });
});

Deno.test("evaluate: a NaN or infinite score names the map file, row and column", async () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    await withDir(async (root) => {
      const map = ramp(12, 0.1);
      map[7] = bad;
      const mask = new Uint8Array(12);
      mask[0] = 1;
      const { gt, maps } = await writeMvtecTree(root, "widget", 4, 3, [
        { defect: "good", stem: "000", map: ramp(12, 0.2) },
        { defect: "crack", stem: "000", map, mask },
      ]);
      await assert.rejects(
        evaluateTree({ mapsDir: maps, gtDir: gt }),
        new RegExp(`crack/000\\.tiff: score at pixel 7 \\(row 1, column 3\\) is ${bad}; maps must be finite`),
      );
    });
  }
});

Deno.test("MapReader: maps read concurrently each get their own values", async () => {
  await withDir(async (dir) => {
    const sizes = [[40, 30], [3, 2], [17, 9], [40, 30], [1, 1], [25, 25]];
    const expected = sizes.map(([w, h], k) => ramp(w * h, 0.1 * (k + 1)));
    await Promise.all(
      sizes.map(([w, h], k) => Deno.writeFile(join(dir, `${k}.tiff`), encodeFloatTiff(w, h, expected[k]))),
    );
    const reader = new MapReader();
    const maps = await Promise.all(sizes.map((_, k) => reader.map(join(dir, `${k}.tiff`))));
    maps.forEach((m, k) => assert.deepEqual([m.width, m.height, m.data], [...sizes[k], expected[k]]));
  });
});

Deno.test("evaluate: with maps read ahead, the first failing file in test order is the one reported", async () => {
  await withDir(async (root) => {
    const mask = new Uint8Array(12);
    mask[5] = 1;
    const images = Array.from({ length: 8 }, (_, k) => ({
      defect: k % 2 ? "crack" : "good",
      stem: String(k).padStart(3, "0"),
      map: ramp(12, 0.01 * (k + 1)),
      mask: k % 2 ? mask : null,
    }));
    const { gt, maps } = await writeMvtecTree(root, "widget", 4, 3, images);
    const cut = async (path: string) => await Deno.writeFile(path, (await Deno.readFile(path)).slice(0, 40));
    // A later map (read ahead) and an earlier mask both damaged: the mask comes first in test order, and
    // the map's failed read, never awaited, must not surface as an unhandled rejection.
    await cut(join(maps, "widget", "test", "crack", "005.tiff"));
    await assert.rejects(evaluateTree({ mapsDir: maps, gtDir: gt }), /crack\/005\.tiff/);
    await cut(join(gt, "widget", "ground_truth", "crack", "003_mask.png"));
    await assert.rejects(evaluateTree({ mapsDir: maps, gtDir: gt }), /003_mask\.png/);
  });
});

Deno.test("benchmark tree: split over three defect types, the category's numbers stay and the breakdown matches auPro per type", async () => {
  await withDir(async (root) => {
    const one = await writeEvaluateTree(join(root, "one"), { images: 12, size: 24 });
    const three = await writeEvaluateTree(join(root, "three"), { images: 12, size: 24, defectTypes: 3 });
    const a = (await evaluateTree({ mapsDir: one.maps, gtDir: one.gt })).categories[TREE_CATEGORY];
    const b = (await evaluateTree({ mapsDir: three.maps, gtDir: three.gt })).categories[TREE_CATEGORY];
    assert.deepEqual([b.au_pro, b.auroc, b.pixel_auroc], [a.au_pro, a.auroc, a.pixel_auroc]);
    assert.deepEqual(a.breakdown!.rows.map((r) => [r.defectType, r.auPro]), [[TREE_DEFECTS[0], a.au_pro]]);
    assert.deepEqual(
      b.breakdown!.rows.map((r) => [r.defectType, r.nAnomalous]),
      TREE_DEFECTS.map((d) => [d, 2]),
    );
    // Each row: that type's maps with the good ones, through auPro on its own.
    for (const row of b.breakdown!.rows) {
      const paths = [
        join(three.maps, TREE_CATEGORY, "test", "good"),
        join(three.maps, TREE_CATEGORY, "test", row.defectType),
      ];
      const maps = [], masks = [];
      for (const dir of paths) {
        for (const e of [...Deno.readDirSync(dir)].sort((x, y) => x.name.localeCompare(y.name))) {
          const map = await readAnomalyMap(join(dir, e.name));
          maps.push(map);
          const stem = e.name.replace(".tiff", "");
          const maskPath = join(three.gt, TREE_CATEGORY, "ground_truth", row.defectType, `${stem}_mask.png`);
          masks.push(
            dir.endsWith("good")
              ? { ...map, data: new Uint8Array(map.data.length) }
              : await readMask(maskPath),
          );
        }
      }
      assert.equal(row.auPro, auPro(maps, masks).auPro, row.defectType);
    }
  });
});
