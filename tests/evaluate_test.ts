import assert from "node:assert/strict";
import { join } from "node:path";
import { auPro, averagePrecision, pixelAuroc, prAucTrapezoid, rocAuc } from "../src/metrics/mod.ts";
import { evaluateTree, readScoresFile, renderTable } from "../src/cli/evaluate.ts";
import { parseNpy, readAnomalyMap, readMask } from "../src/cli/map_files.ts";
import { main } from "../main.ts";
import { encodeFloat32Tiff, encodeFloatTiff } from "./helpers/float_tiff.ts";
import { encodeMaskPng, encodeNpy, type FixtureImage, writeMvtecTree } from "./helpers/fixtures.ts";

const W = 6, H = 4;

/** Deterministic pseudo-random floats. */
function floats(seed: number, n: number): Float32Array {
  let s = seed;
  return new Float32Array(n).map(() => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s / 2147483648;
  });
}

function fixtureImages(): FixtureImage[] {
  const crack = new Uint8Array(W * H);
  crack[7] = crack[8] = crack[14] = 1; // one region (8-connected)
  const hole = new Uint8Array(W * H);
  hole[0] = hole[23] = 1; // two regions in opposite corners
  const raise = (map: Float32Array, mask: Uint8Array) => map.map((v, i) => (mask[i] ? v + 0.4 : v));
  return [
    { defect: "good", stem: "000", map: floats(1, W * H) },
    { defect: "good", stem: "001", map: floats(2, W * H), format: "npy" },
    { defect: "crack", stem: "000", map: raise(floats(3, W * H), crack), mask: crack },
    { defect: "hole", stem: "000", map: raise(floats(4, W * H), hole), mask: hole, format: "npy" },
  ];
}

async function withTree<T>(
  images: FixtureImage[],
  f: (dirs: { gt: string; maps: string; root: string }) => Promise<T>,
) {
  const root = await Deno.makeTempDir({ prefix: "vtadl-eval-" });
  try {
    const dirs = await writeMvtecTree(root, "widget", W, H, images);
    return await f({ ...dirs, root });
  } finally {
    await Deno.remove(root, { recursive: true });
  }
}

Deno.test("float32 TIFF maps are read bit for bit", async () => {
  const values = new Float32Array([0.1, -3.5e-7, 1e30, -0, 123.456, 1e-40, 0.5, -1]);
  const root = await Deno.makeTempDir();
  try {
    const path = join(root, "m.tiff");
    await Deno.writeFile(path, encodeFloat32Tiff(4, 2, values));
    const map = await readAnomalyMap(path);
    assert.equal(map.width, 4);
    assert.equal(map.height, 2);
    assert.ok(map.data instanceof Float32Array);
    assert.ok(Array.from(map.data).every((v, i) => Object.is(v, values[i])), `${map.data} vs ${values}`);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("float64 TIFF maps are read bit for bit (libvips cannot read them)", async () => {
  const root = await Deno.makeTempDir();
  try {
    const values = Float64Array.from({ length: 12 }, (_, i) => i * 0.1 + 1e-12); // not float32 values
    await Deno.writeFile(join(root, "m.tiff"), encodeFloatTiff(4, 3, values));
    const map = await readAnomalyMap(join(root, "m.tiff"));
    assert.ok(map.data instanceof Float64Array);
    assert.deepEqual([map.width, map.height], [4, 3]);
    assert.deepEqual(Array.from(map.data), Array.from(values));
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate scores float64 TIFF maps like the same maps as float64 .npy", async () => {
  const root = await Deno.makeTempDir();
  try {
    const mask = new Uint8Array(16);
    mask[5] = mask[6] = 1;
    const map = (k: number) =>
      Float64Array.from({ length: 16 }, (_, i) => (mask[i] ? 0.7 : 0.1) + k * 1e-9 + i * 1e-12);
    const images = [["good", "000", null], ["good", "001", null], ["bad", "000", mask], [
      "bad",
      "001",
      mask,
    ]] as const;
    const results = [];
    for (const format of ["tiff", "npy"] as const) {
      const dir = join(root, format);
      const { gt, maps } = await writeMvtecTree(
        dir,
        "c",
        4,
        4,
        images.map(([defect, stem, m]) => ({
          defect,
          stem,
          mask: m,
          map: new Float32Array(16),
          format,
        })),
      );
      // Overwrite the float32 maps with float64 ones.
      for (const [k, [defect, stem]] of images.entries()) {
        const file = join(maps, "c", "test", defect, `${stem}.${format}`);
        await Deno.writeFile(
          file,
          format === "tiff" ? encodeFloatTiff(4, 4, map(k)) : encodeNpy(4, 4, map(k)),
        );
      }
      results.push(await evaluateTree({ mapsDir: maps, gtDir: gt }));
    }
    assert.equal(results[0].categories.c.map_dtype, "float64");
    assert.deepEqual(results[0].categories, results[1].categories);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("8-bit TIFF maps are rejected with the expected format", async () => {
  const root = await Deno.makeTempDir();
  try {
    const path = join(root, "m.tiff");
    // sharp writes 8-bit TIFFs only.
    const { default: sharp } = await import("sharp");
    const raw = sharp(new Uint8Array(6), { raw: { width: 3, height: 2, channels: 1 } });
    await Deno.writeFile(path, await raw.clone().tiff({ compression: "none" }).toBuffer());
    await assert.rejects(
      readAnomalyMap(path),
      /m\.tiff: TIFF samples are 8-bit unsigned integer; expected 32-bit float .* tifffile\.imwrite/,
    );
    await Deno.writeFile(path, await raw.clone().tiff({ compression: "jpeg" }).toBuffer());
    await assert.rejects(readAnomalyMap(path), /m\.tiff: cannot decode TIFF .*; write each map as one/);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test(".npy maps: float32 and float64 C-order 2-D arrays are parsed; others are rejected clearly", () => {
  const f4 = parseNpy(encodeNpy(2, 3, new Float32Array([1, 2, 3, 4, 5, 6])), "a.npy");
  assert.deepEqual([f4.width, f4.height, Array.from(f4.data)], [3, 2, [1, 2, 3, 4, 5, 6]]);
  assert.ok(f4.data instanceof Float32Array);
  const f8 = parseNpy(encodeNpy(1, 2, new Float64Array([0.1, 0.2])), "b.npy");
  assert.ok(f8.data instanceof Float64Array);
  assert.deepEqual(Array.from(f8.data), [0.1, 0.2]);
  const data = new Float32Array(6);
  assert.throws(() => parseNpy(encodeNpy(2, 3, data, { fortran: true }), "c.npy"), /c\.npy: Fortran-order/);
  assert.throws(
    () => parseNpy(encodeNpy(2, 3, data, { descr: "<i4" }), "d.npy"),
    /d\.npy: dtype '<i4' is not supported/,
  );
  assert.throws(
    () => parseNpy(encodeNpy(2, 3, data, { shape: "(1, 2, 3)" }), "e.npy"),
    /e\.npy: shape \(1, 2, 3\) is not 2-D/,
  );
  assert.throws(() => parseNpy(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "f.npy"), /not a \.npy file/);
  assert.throws(() => parseNpy(encodeNpy(2, 3, data).slice(0, 100), "g.npy"), /g\.npy: truncated/);
});

Deno.test("PNG masks: any non-zero value is defect", async () => {
  const root = await Deno.makeTempDir();
  try {
    const path = join(root, "m.png");
    await Deno.writeFile(path, await encodeMaskPng(3, 1, new Uint8Array([0, 1, 0])));
    const mask = await readMask(path);
    assert.deepEqual(Array.from(mask.data), [0, 1, 0]);
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});

Deno.test("evaluate gives the engine's numbers on the same maps, with max-of-map image scores", async () => {
  const images = fixtureImages();
  await withTree(images, async ({ gt, maps }) => {
    const report = await evaluateTree({ mapsDir: maps, gtDir: gt });
    const r = report.categories.widget;
    // The tree is listed sorted: crack/000, good/000, good/001, hole/000.
    const order = [2, 0, 1, 3].map((i) => images[i]);
    const scoreMaps = order.map((img) => ({ width: W, height: H, data: img.map }));
    const masks = order.map((img) => ({ width: W, height: H, data: img.mask ?? new Uint8Array(W * H) }));
    const scores = order.map((img) => Math.max(...img.map));
    const labels = order.map((img) => (img.mask ? 1 : 0));
    assert.equal(r.n_images, 4);
    assert.equal(r.n_anomalous, 2);
    assert.equal(r.n_regions, 3);
    assert.equal(r.n_ok_pixels, 4 * W * H - 5);
    assert.equal(r.au_pro, auPro(scoreMaps, masks).auPro);
    assert.equal(r.pixel_auroc, pixelAuroc(scoreMaps, masks));
    assert.equal(r.auroc, rocAuc(scores, labels));
    assert.equal(r.average_precision, averagePrecision(scores, labels));
    assert.equal(r.pr_auc, prAucTrapezoid(scores, labels));
    assert.equal(r.map_dtype, "float32");
    assert.equal(report.mean.au_pro, r.au_pro);
    assert.match(renderTable(report), /widget\s+4\s+2\s+3\s/);
  });
});

Deno.test("missing and extra maps are listed by name in one error", async () => {
  await withTree(fixtureImages(), async ({ gt, maps }) => {
    await Deno.remove(join(maps, "widget/test/good/001.npy"));
    await Deno.remove(join(maps, "widget/test/crack/000.tiff"));
    await Deno.writeFile(join(maps, "widget/test/good/007.tiff"), encodeFloat32Tiff(W, H, floats(9, W * H)));
    await assert.rejects(
      evaluateTree({ mapsDir: maps, gtDir: gt }),
      (e: Error) =>
        /2 missing: widget\/test\/crack\/000, widget\/test\/good\/001; 1 without a test image: widget\/test\/good\/007/
          .test(e.message),
    );
  });
});

Deno.test("a map whose size differs from its mask is an error naming both files", async () => {
  await withTree(fixtureImages(), async ({ gt, maps }) => {
    await Deno.writeFile(
      join(maps, "widget/test/crack/000.tiff"),
      encodeFloat32Tiff(W + 1, H, floats(5, (W + 1) * H)),
    );
    await assert.rejects(
      evaluateTree({ mapsDir: maps, gtDir: gt }),
      /crack\/000\.tiff is 7×4 but its mask .*crack\/000_mask\.png is 6×4/,
    );
  });
});

Deno.test("a scores file replaces max-of-map image scores and must cover every image", async () => {
  await withTree(fixtureImages(), async ({ gt, maps, root }) => {
    // Hand-picked scores: the two anomalous images score 0.2 and 0.9, the good ones 0.5 and 0.1 →
    // pairs (0.2<0.5, 0.2>0.1, 0.9>0.5, 0.9>0.1) → AUROC 3/4.
    const path = join(root, "scores.json");
    const scores = {
      "widget/test/crack/000": 0.2,
      "widget/test/hole/000.npy": 0.9,
      "widget/test/good/000": 0.5,
      "widget/test/good/001": 0.1,
    };
    await Deno.writeTextFile(path, JSON.stringify({ scores }));
    const report = await evaluateTree({ mapsDir: maps, gtDir: gt, scores: await readScoresFile(path) });
    assert.equal(report.categories.widget.auroc, 0.75);
    const partial = { "widget/test/crack/000": 0.2 };
    await assert.rejects(
      evaluateTree({ mapsDir: maps, gtDir: gt, scores: partial }),
      /3 image score\(s\) missing/,
    );
  });
});

Deno.test("evaluate command prints the table and writes the JSON report", async () => {
  await withTree(fixtureImages(), async ({ gt, maps, root }) => {
    const out = join(root, "reports", "eval.json");
    const logs: string[] = [];
    const [log, error] = [console.log, console.error];
    console.log = (...a: unknown[]) => logs.push(a.join(" "));
    console.error = () => {};
    let code;
    try {
      code = await main(["evaluate", "--maps", maps, "--gt", gt, "--limit", "0.2", "--out", out]);
    } finally {
      [console.log, console.error] = [log, error];
    }
    assert.equal(code, 0);
    assert.match(logs.join("\n"), /AU-PRO@0\.2/);
    const report = JSON.parse(await Deno.readTextFile(out));
    assert.equal(report.settings.integration_limit, 0.2);
    assert.equal(typeof report.categories.widget.au_pro, "number");
  });
});

Deno.test("--gt without the MVTec layout is a one-line error", async () => {
  const root = await Deno.makeTempDir();
  try {
    await Deno.mkdir(join(root, "maps", "widget"), { recursive: true });
    await assert.rejects(
      evaluateTree({ mapsDir: join(root, "maps"), gtDir: join(root, "gt") }),
      /widget\/test not found: --gt must be the dataset root/,
    );
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
