import assert from "node:assert/strict";
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { ensureDataset } from "../src/datasets/ensure.ts";
import { listCategories, loadCategorySplit } from "../src/datasets/loaders.ts";
import { bmpBytes, idxBytes } from "./_fixtures.ts";

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-loaders-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A 16×16 image, black with a white 4×4 square at column 4·k (so image k and mask k can be matched). */
function squareAt(k: number, channels: 1 | 3): Uint8Array {
  const data = new Uint8Array(16 * 16 * channels);
  for (let y = 6; y < 10; y++) {
    for (let x = 4 * k; x < 4 * k + 4; x++) {
      data.fill(255, (y * 16 + x) * channels, (y * 16 + x + 1) * channels);
    }
  }
  return data;
}

async function writePng(path: string, data: Uint8Array, channels: 1 | 3): Promise<void> {
  await Deno.mkdir(join(path, ".."), { recursive: true });
  await Deno.writeFile(path, encodePng({ width: 16, height: 16, data, channels, depth: 8 }));
}

/** Column of the white square in a preprocessed 16×16 RGB image or mask (or -1). */
function squareColumn(values: Uint8Array, stride: number): number {
  for (let x = 0; x < 16; x++) if (values[(8 * 16 + x) * stride] > 0) return x;
  return -1;
}

Deno.test("MVTec layout: sorted listings, masks paired by stem, grey replicated, good has no mask", async () => {
  await withDir(async (root) => {
    const cat = join(root, "widget");
    await writePng(join(cat, "train/good/000.png"), squareAt(0, 1), 1);
    await writePng(join(cat, "train/good/001.png"), squareAt(1, 1), 1);
    await writePng(join(cat, "test/good/000.png"), squareAt(0, 1), 1);
    // Written in reverse order so directory order differs from sorted order; masks match by stem only.
    for (const k of [3, 2, 1]) {
      await writePng(join(cat, `test/crack/00${k}.png`), squareAt(k, 1), 1);
      await writePng(join(cat, `ground_truth/crack/00${k}_mask.png`), squareAt(k, 1), 1);
    }
    assert.deepEqual(await listCategories("mvtec", root), ["widget"]);
    const split = await loadCategorySplit("mvtec", root, "widget", {
      resize: 16,
      crop: 16,
      cacheDir: join(root, ".c"),
    });
    assert.deepEqual(split.train.map((s) => s.path), [
      "widget/train/good/000.png",
      "widget/train/good/001.png",
    ]);
    assert.deepEqual(split.test.map((s) => [s.path, s.label, s.defectType]), [
      ["widget/test/crack/001.png", 1, "crack"],
      ["widget/test/crack/002.png", 1, "crack"],
      ["widget/test/crack/003.png", 1, "crack"],
      ["widget/test/good/000.png", 0, "good"],
    ]);
    for (const sample of split.test) {
      assert.equal(sample.channels, 3);
      assert.equal(sample.pixels.length, 16 * 16 * 3);
      const p = (8 * 16 + 5) * 3;
      assert.equal(sample.pixels[p], sample.pixels[p + 1]);
      assert.equal(sample.pixels[p], sample.pixels[p + 2]);
      if (sample.label === 1) {
        assert.ok(sample.mask);
        assert.equal(
          squareColumn(sample.mask, 1),
          squareColumn(sample.pixels, 3),
          `${sample.path} paired wrongly`,
        );
      } else assert.equal(sample.mask, null);
    }
    await Deno.remove(join(cat, "ground_truth/crack/002_mask.png"));
    await assert.rejects(
      loadCategorySplit("mvtec", root, "widget", { resize: 16, crop: 16 }),
      /mask for widget\/test\/crack\/002\.png not found: looked for ground_truth\/crack\/002_mask\.png/,
    );
    await assert.rejects(
      loadCategorySplit("mvtec", root, "nope", { resize: 16, crop: 16 }),
      /"nope" not found.*widget/,
    );
  });
});

Deno.test("BTAD layout: ok/ko folders, BMP and PNG images, masks by stem with either extension", async () => {
  await withDir(async (root) => {
    const bmp = (k: number) => bmpBytes(16, 16, Array.from(squareAt(k, 3)));
    const p01 = join(root, "01");
    await Deno.mkdir(join(p01, "train/ok"), { recursive: true });
    await Deno.mkdir(join(p01, "test/ok"), { recursive: true });
    await Deno.mkdir(join(p01, "test/ko"), { recursive: true });
    await Deno.mkdir(join(p01, "ground_truth/ko"), { recursive: true });
    await Deno.writeFile(join(p01, "train/ok/0000.bmp"), bmp(0));
    await Deno.writeFile(join(p01, "test/ok/0001.bmp"), bmp(1));
    await Deno.writeFile(join(p01, "test/ko/0002.bmp"), bmp(2));
    await writePng(join(p01, "ground_truth/ko/0002.png"), squareAt(2, 1), 1);
    // Product 03 style: BMP image and BMP mask.
    await Deno.writeFile(join(p01, "test/ko/0003.bmp"), bmp(3));
    await Deno.writeFile(join(p01, "ground_truth/ko/0003.bmp"), bmp(3));
    const split = await loadCategorySplit("btad", root, "01", {
      resize: 16,
      crop: 16,
      cacheDir: join(root, ".c"),
    });
    assert.deepEqual(split.train.map((s) => s.defectType), ["ok"]);
    assert.deepEqual(split.test.map((s) => [s.path, s.label]), [
      ["01/test/ko/0002.bmp", 1],
      ["01/test/ko/0003.bmp", 1],
      ["01/test/ok/0001.bmp", 0],
    ]);
    assert.equal(squareColumn(split.test[0].mask!, 1), 8);
    assert.equal(squareColumn(split.test[1].mask!, 1), 12);
    assert.equal(squareColumn(split.test[1].pixels, 3), 12);
    await Deno.remove(join(p01, "ground_truth/ko/0003.bmp"));
    await assert.rejects(
      loadCategorySplit("btad", root, "01", { resize: 16, crop: 16 }),
      /looked for ground_truth\/ko\/0003\.png and ground_truth\/ko\/0003\.bmp/,
    );
  });
});

Deno.test("MNIST: one-class split (train = class c, test = all, label 1 = other classes), any size", async () => {
  await withDir(async (root) => {
    const n = 20;
    const labels = Uint8Array.from({ length: n }, (_, i) => i % 10);
    const images = Uint8Array.from({ length: n * 28 * 28 }, (_, i) => Math.floor(i / 784) * 10);
    await Deno.writeFile(join(root, "train-images-idx3-ubyte"), idxBytes(0x803, [n, 28, 28], images));
    await Deno.writeFile(join(root, "train-labels-idx1-ubyte"), idxBytes(0x801, [n], labels));
    await Deno.writeFile(
      join(root, "t10k-images-idx3-ubyte"),
      idxBytes(0x803, [10, 28, 28], images.slice(0, 10 * 784)),
    );
    await Deno.writeFile(join(root, "t10k-labels-idx1-ubyte"), idxBytes(0x801, [10], labels.slice(0, 10)));
    assert.equal((await listCategories("mnist", root)).length, 10);
    const split = await loadCategorySplit("mnist", root, "3", { resize: 28, crop: 28 });
    assert.deepEqual(split.train.map((s) => s.path), [
      "train-images-idx3-ubyte#00003",
      "train-images-idx3-ubyte#00013",
    ]);
    assert.equal(split.train[1].pixels[0], 130);
    assert.equal(split.train[1].pixels.length, 28 * 28 * 3);
    assert.equal(split.test.length, 10);
    assert.deepEqual(split.test.map((s) => s.label), [1, 1, 1, 0, 1, 1, 1, 1, 1, 1]);
    const resized = await loadCategorySplit("mnist", root, "3", {
      resize: 36,
      crop: 32,
      cacheDir: join(root, ".c"),
    });
    assert.equal(resized.train[0].width, 32);
    assert.equal(resized.train[0].pixels.length, 32 * 32 * 3);
    assert.equal(resized.train[0].pixels[16 * 32 * 3], 30);
    await assert.rejects(loadCategorySplit("mnist", root, "11", { resize: 28, crop: 28 }), /"0"\.\."9"/);
  });
});

Deno.test("synthetic: generated offline, loads with exact masks, and a second load comes from the cache", async () => {
  await withDir(async (dataDir) => {
    const ds = await ensureDataset("synthetic", { dataDir, quiet: true });
    assert.equal(ds.status, "generated");
    assert.deepEqual(await listCategories("synthetic", ds.root), ["disc", "lattice", "weave"]);
    const pre = { resize: 64, crop: 64 };
    const first = await loadCategorySplit("synthetic", ds.root, "lattice", pre);
    assert.equal(first.train.length, 24);
    assert.equal(first.test.length, 14);
    for (const s of first.test) {
      if (s.label === 0) assert.equal(s.mask, null);
      else assert.ok(s.mask!.some((v) => v === 1), `${s.path} has an empty mask`);
    }
    const cacheFiles = [...Deno.readDirSync(join(dataDir, ".cache"))].map((e) => e.name).sort();
    assert.deepEqual(cacheFiles, ["preprocessed", "source-digests.json"]);
    // Poison one cached blob: if the second load really reads the cache, it returns the poisoned bytes.
    const again = await loadCategorySplit("synthetic", ds.root, "lattice", pre);
    assert.deepEqual(again.train[0].pixels, first.train[0].pixels);
    const blobs: string[] = [];
    for (const d of Deno.readDirSync(join(dataDir, ".cache/preprocessed"))) {
      for (const f of Deno.readDirSync(join(dataDir, ".cache/preprocessed", d.name))) {
        blobs.push(join(dataDir, ".cache/preprocessed", d.name, f.name));
      }
    }
    assert.equal(blobs.length, 24 + 14 + 8);
    for (const blob of blobs) {
      await Deno.writeFile(blob, new Uint8Array((await Deno.stat(blob)).size).fill(7));
    }
    const poisoned = await loadCategorySplit("synthetic", ds.root, "lattice", pre);
    assert.ok(poisoned.train[0].pixels.every((v) => v === 7));
    const second = await ensureDataset("synthetic", { dataDir, quiet: true });
    assert.equal(second.status, "present");
  });
});
