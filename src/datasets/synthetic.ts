/**
 * The `synthetic` dataset: a deterministic, seeded generator of a small MVTec-format tree (the offline
 * default of `reproduce`): three categories — `weave` (RGB texture), `disc` (RGB object) and `lattice`
 * (grey texture, to exercise grey → 3-channel loading) — each with two defect types whose masks are
 * exactly the pixels the defect painted.
 *
 * Byte stability: pixels use integer arithmetic only (no trigonometry), the RNG is pure-rand's
 * xoroshiro128+, and PNGs are encoded by fast-png (pure JS + pako), so the PNG bytes do not depend on the
 * libvips/zlib build the way sharp's would. {@linkcode packSyntheticArchive} writes a tar with
 * deterministic headers (sorted entries, mtime 0, uid/gid 0, mode 0644) compressed by @napi-rs/lzma
 * (pure Rust, one thread). The lock pins both that archive's SHA-256 and the SHA-256 of the manifest of
 * extracted files, and the manifest is what a generated or extracted tree is checked against, so a
 * re-packed archive of the same files still verifies once its own hash is added to the lock.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { xz } from "@napi-rs/lzma";
import { encode as encodePng } from "fast-png";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plus } from "pure-rand/generator/xoroshiro128plus";
// @ts-types="npm:@types/tar-stream@3.1.5"
import tar from "tar-stream";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { sha256Hex } from "./hashing.ts";
import { manifestDigest } from "./installed.ts";
import type { CategoryCounts } from "./lock.ts";
import { concatBytes } from "../util/bytes.ts";

/** Generator settings (the lock's `generator` entry pins version, seed and image size). */
export interface SyntheticSpec {
  version: number;
  seed: number;
  imageSize: number;
  trainPerCategory: number;
  testGoodPerCategory: number;
  testPerDefect: number;
}

/** Defaults: 64 px, 24 train / 6 good test / 2×4 defective test images per category. */
export const DEFAULT_SYNTHETIC_SPEC: SyntheticSpec = {
  version: 1,
  seed: 20210421,
  imageSize: 64,
  trainPerCategory: 24,
  testGoodPerCategory: 6,
  testPerDefect: 4,
};

/** Folder inside the extraction folder that holds the category folders. */
export const SYNTHETIC_ROOT = "synthetic";

type Rng = ReturnType<typeof xoroshiro128plus>;

/** An image being painted: `channels` 1 or 3, and the defect mask (1 = painted by a defect). */
class Canvas {
  readonly pixels: Uint8Array;
  readonly mask: Uint8Array;
  constructor(readonly size: number, readonly channels: 1 | 3) {
    this.pixels = new Uint8Array(size * size * channels);
    this.mask = new Uint8Array(size * size);
  }

  set(x: number, y: number, colour: number[], defect = false): void {
    if (x < 0 || y < 0 || x >= this.size || y >= this.size) return;
    const i = y * this.size + x;
    for (let c = 0; c < this.channels; c++) this.pixels[i * this.channels + c] = clamp(colour[c]);
    if (defect) this.mask[i] = 1;
  }
}

function clamp(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

function noisy(rng: Rng, colour: number[], amplitude: number): number[] {
  return colour.map((c) => c + uniformInt(rng, -amplitude, amplitude));
}

/** Integer line rasterisation, `width` px wide, painted as a defect. */
function paintScratch(canvas: Canvas, rng: Rng, colour: number[]): void {
  const s = canvas.size;
  const x0 = uniformInt(rng, 8, s - 9);
  const y0 = uniformInt(rng, 8, s - 9);
  const dx = uniformInt(rng, -20, 20);
  const dy = uniformInt(rng, 10, 20) * (uniformInt(rng, 0, 1) === 0 ? -1 : 1);
  const steps = Math.max(Math.abs(dx), Math.abs(dy));
  for (let t = 0; t <= steps; t++) {
    const x = x0 + Math.floor((dx * t + (steps >> 1)) / steps);
    const y = y0 + Math.floor((dy * t + (steps >> 1)) / steps);
    canvas.set(x, y, colour, true);
    canvas.set(x + 1, y, colour, true);
  }
}

function paintSpot(canvas: Canvas, cx: number, cy: number, r: number, colour: number[]): void {
  for (let y = cy - r; y <= cy + r; y++) {
    for (let x = cx - r; x <= cx + r; x++) {
      if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) canvas.set(x, y, colour, true);
    }
  }
}

interface CategoryDef {
  name: string;
  channels: 1 | 3;
  defects: [string, string];
  /** Paints a normal image, then the defect (or none). */
  paint(canvas: Canvas, rng: Rng, defect: string | null): void;
}

const CATEGORIES: CategoryDef[] = [
  {
    name: "weave",
    channels: 3,
    defects: ["scratch", "spot"],
    paint(canvas, rng, defect) {
      const px = uniformInt(rng, 0, 7);
      const py = uniformInt(rng, 0, 7);
      for (let y = 0; y < canvas.size; y++) {
        for (let x = 0; x < canvas.size; x++) {
          const v = (((x + px) >> 2) & 1) ^ (((y + py) >> 2) & 1);
          canvas.set(x, y, noisy(rng, v ? [170, 130, 90] : [120, 85, 55], 8));
        }
      }
      if (defect === "scratch") paintScratch(canvas, rng, [25, 25, 30]);
      if (defect === "spot") {
        const r = uniformInt(rng, 3, 6);
        paintSpot(canvas, uniformInt(rng, 10, canvas.size - 11), uniformInt(rng, 10, canvas.size - 11), r, [
          220,
          40,
          40,
        ]);
      }
    },
  },
  {
    name: "disc",
    channels: 3,
    defects: ["missing", "spot"],
    paint(canvas, rng, defect) {
      const c = canvas.size >> 1;
      const cx = c + uniformInt(rng, -2, 2);
      const cy = c + uniformInt(rng, -2, 2);
      const r = uniformInt(rng, 18, 21);
      const background = [40, 60, 90];
      const inDisc = new Uint8Array(canvas.size * canvas.size);
      for (let y = 0; y < canvas.size; y++) {
        for (let x = 0; x < canvas.size; x++) {
          const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r * r;
          inDisc[y * canvas.size + x] = inside ? 1 : 0;
          canvas.set(x, y, noisy(rng, inside ? [205, 190, 60] : background, 6));
        }
      }
      if (defect === "spot") {
        const angle = uniformInt(rng, 0, 7);
        const dist = uniformInt(rng, 0, r - 8);
        const ox = [1, 1, 0, -1, -1, -1, 0, 1][angle];
        const oy = [0, 1, 1, 1, 0, -1, -1, -1][angle];
        paintSpot(canvas, cx + ox * dist, cy + oy * dist, uniformInt(rng, 3, 5), [45, 35, 30]);
      }
      if (defect === "missing") {
        // A square bite out of the rim: disc pixels inside it become background.
        const side = uniformInt(rng, 8, 12);
        const quadrant = uniformInt(rng, 0, 3);
        const ex = quadrant & 1 ? cx + r - (side >> 1) : cx - r - (side >> 1);
        const ey = quadrant & 2 ? cy - (side >> 1) + uniformInt(rng, -4, 4) : cy - (side >> 1);
        for (let y = ey; y < ey + side; y++) {
          for (let x = ex; x < ex + side; x++) {
            if (x >= 0 && y >= 0 && x < canvas.size && y < canvas.size && inDisc[y * canvas.size + x]) {
              canvas.set(x, y, noisy(rng, background, 6), true);
            }
          }
        }
      }
    },
  },
  {
    name: "lattice",
    channels: 1,
    defects: ["hole", "scratch"],
    paint(canvas, rng, defect) {
      const ox = uniformInt(rng, 0, 7);
      const oy = uniformInt(rng, 0, 7);
      for (let y = 0; y < canvas.size; y++) {
        for (let x = 0; x < canvas.size; x++) {
          const line = ((x + ox) & 7) < 2 || ((y + oy) & 7) < 2;
          canvas.set(x, y, noisy(rng, [line ? 60 : 180], 6));
        }
      }
      if (defect === "scratch") paintScratch(canvas, rng, [5]);
      if (defect === "hole") {
        const w = uniformInt(rng, 6, 10);
        const h = uniformInt(rng, 6, 10);
        const x0 = uniformInt(rng, 4, canvas.size - w - 4);
        const y0 = uniformInt(rng, 4, canvas.size - h - 4);
        for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) canvas.set(x, y, [252], true);
      }
    },
  },
];

/** Expected counts per category for `spec` (what the lock's layout pins). */
export function syntheticCounts(
  spec: SyntheticSpec = DEFAULT_SYNTHETIC_SPEC,
): Record<string, CategoryCounts> {
  const out: Record<string, CategoryCounts> = {};
  for (const def of [...CATEGORIES].sort((a, b) => a.name.localeCompare(b.name))) {
    out[def.name] = {
      trainGood: spec.trainPerCategory,
      testGood: spec.testGoodPerCategory,
      testDefect: 2 * spec.testPerDefect,
      masks: 2 * spec.testPerDefect,
      defectTypes: 2,
      imageSize: [spec.imageSize, spec.imageSize],
      colour: def.channels === 1 ? "grey" : "rgb",
    };
  }
  return out;
}

function imageRng(spec: SyntheticSpec, category: number, split: number, index: number): Rng {
  // One independent stream per image, so counts can change without changing the other images.
  return xoroshiro128plus(
    (spec.seed ^ (category * 0x9e3779b1) ^ (split * 0x85ebca6b) ^ (index * 0xc2b2ae35)) | 0,
  );
}

function png(canvas: Canvas): Uint8Array {
  return encodePng({
    width: canvas.size,
    height: canvas.size,
    data: canvas.pixels,
    channels: canvas.channels,
    depth: 8,
  });
}

function maskPng(canvas: Canvas): Uint8Array {
  const data = canvas.mask.map((v) => (v ? 255 : 0));
  return encodePng({ width: canvas.size, height: canvas.size, data, channels: 1, depth: 8 });
}

const name3 = (i: number) => String(i).padStart(3, "0");

/**
 * Generates the whole tree in memory: path (under `synthetic/`) → PNG bytes, in sorted path order.
 *
 * @example
 * ```ts
 * const files = generateSyntheticFiles();
 * console.log(files.size); // 3 categories × (24 + 6 + 8 images + 8 masks)
 * ```
 */
export function generateSyntheticFiles(
  spec: SyntheticSpec = DEFAULT_SYNTHETIC_SPEC,
): Map<string, Uint8Array> {
  if (spec.version !== 1) {
    throw new Error(`synthetic generator version ${spec.version} is unknown (this code: 1)`);
  }
  const files = new Map<string, Uint8Array>();
  CATEGORIES.forEach((def, ci) => {
    const base = `${SYNTHETIC_ROOT}/${def.name}`;
    for (let i = 0; i < spec.trainPerCategory; i++) {
      const canvas = new Canvas(spec.imageSize, def.channels);
      def.paint(canvas, imageRng(spec, ci, 0, i), null);
      files.set(`${base}/train/good/${name3(i)}.png`, png(canvas));
    }
    for (let i = 0; i < spec.testGoodPerCategory; i++) {
      const canvas = new Canvas(spec.imageSize, def.channels);
      def.paint(canvas, imageRng(spec, ci, 1, i), null);
      files.set(`${base}/test/good/${name3(i)}.png`, png(canvas));
    }
    def.defects.forEach((defect, di) => {
      for (let i = 0; i < spec.testPerDefect; i++) {
        const canvas = new Canvas(spec.imageSize, def.channels);
        def.paint(canvas, imageRng(spec, ci, 2 + di, i), defect);
        files.set(`${base}/test/${defect}/${name3(i)}.png`, png(canvas));
        files.set(`${base}/ground_truth/${defect}/${name3(i)}_mask.png`, maskPng(canvas));
      }
    });
  });
  return new Map([...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Writes the generated tree under `dir` (which becomes the extraction folder) and returns its manifest. */
export async function writeSyntheticTree(
  dir: string,
  spec: SyntheticSpec = DEFAULT_SYNTHETIC_SPEC,
): Promise<Map<string, string>> {
  const manifest = new Map<string, string>();
  for (const [path, bytes] of generateSyntheticFiles(spec)) {
    const target = join(dir, path);
    await Deno.mkdir(join(target, ".."), { recursive: true });
    await Deno.writeFile(target, bytes);
    manifest.set(path, sha256Hex(bytes));
  }
  return manifest;
}

/** A deterministic tar of `files` (sorted, mtime 0, uid/gid 0, mode 0644, no user names). */
export async function deterministicTar(files: Map<string, Uint8Array>): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const collected = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  })();
  for (const [path, bytes] of [...files.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    await new Promise<void>((resolve, reject) =>
      pack.entry(
        {
          name: path,
          size: bytes.length,
          mode: 0o644,
          mtime: new Date(0),
          uid: 0,
          gid: 0,
          uname: "",
          gname: "",
        },
        Buffer.from(bytes),
        (error) => (error ? reject(error) : resolve()),
      )
    );
  }
  pack.finalize();
  await collected;
  return concatBytes(chunks);
}

/**
 * Packs the synthetic set into `outPath` as `.tar.xz` (for hosting it as a mirror, and for the
 * download → verify → extract tests). Returns the archive's size and SHA-256.
 *
 * @example
 * ```ts
 * const { sha256 } = await packSyntheticArchive("/tmp/mirror/synthetic.tar.xz");
 * ```
 */
export async function packSyntheticArchive(
  outPath: string,
  spec: SyntheticSpec = DEFAULT_SYNTHETIC_SPEC,
): Promise<{ size: number; sha256: string; manifestSha256: string }> {
  const files = generateSyntheticFiles(spec);
  const tarBytes = await deterministicTar(files);
  const compressed = new Uint8Array(await xz.compress(tarBytes));
  await writeFileAtomic(outPath, compressed);
  const manifest = new Map([...files.entries()].map(([p, b]) => [p, sha256Hex(b)]));
  return { size: compressed.length, sha256: sha256Hex(compressed), manifestSha256: manifestDigest(manifest) };
}
