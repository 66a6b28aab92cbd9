/**
 * Data-layer throughput: verified download from a loopback server, copy from a local mirror, cheap
 * re-verification of a present file, tar.xz extraction, and loading one MVTec-sized category cold
 * (decode + resize) versus warm (from the preprocessed cache).
 *
 * Run: `deno task bench` (needs `--allow-net=127.0.0.1` for the loopback server).
 */
import { join } from "node:path";
import sharp from "sharp";
import { downloadVerified } from "../src/datasets/download.ts";
import { extractTarXz } from "../src/datasets/extract.ts";
import type { LockFile } from "../src/datasets/lock.ts";
import { loadCategorySplit } from "../src/datasets/loaders.ts";
import { packSyntheticArchive } from "../src/datasets/synthetic.ts";
import { imageLikeTarXz } from "./archive_fixture.ts";

const MB = 1_000_000;
const SIZE = 64 * MB;

const body = new Uint8Array(SIZE);
body.set([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
for (let i = 6; i < SIZE; i += 4096) body[i] = i & 0xff;
const sha256 = Array.from(
  new Uint8Array(await crypto.subtle.digest("SHA-256", body)),
  (b) => b.toString(16).padStart(2, "0"),
).join("");

const dir = await Deno.makeTempDir({ prefix: "vtadl-bench-" });
const server = Deno.serve(
  { hostname: "127.0.0.1", port: 0, onListen() {} },
  () => new Response(body),
);
const { port } = server.addr as Deno.NetAddr;
const file: LockFile = {
  name: "blob.tar.xz",
  archive: "tar.xz",
  mirrors: [`http://127.0.0.1:${port}/blob.tar.xz`],
  accept: [{ source: "bench", size: SIZE, sha256 }],
};
const mirrorDir = join(dir, "mirror");
await Deno.mkdir(mirrorDir);
await Deno.writeFile(join(mirrorDir, file.name), body);

let run = 0;
Deno.bench({
  name: `download + verify ${SIZE / MB} MB from loopback HTTP`,
  group: "download",
  n: 5,
  warmup: 1,
}, async () => {
  const target = join(dir, `http-${run++}`);
  await downloadVerified(file, target);
  await Deno.remove(target, { recursive: true });
});

Deno.bench({
  name: `copy + verify ${SIZE / MB} MB from a local mirror folder`,
  group: "download",
  n: 5,
  warmup: 1,
}, async () => {
  const target = join(dir, `local-${run++}`);
  await downloadVerified({ ...file, mirrors: [] }, target, { mirrors: [mirrorDir] });
  await Deno.remove(target, { recursive: true });
});

const present = join(dir, "present");
await downloadVerified(file, present);
Deno.bench(
  { name: `re-verify a present ${SIZE / MB} MB file (digest sidecar)`, group: "download", n: 20 },
  async () => {
    await downloadVerified(file, present);
  },
);

// Extraction: a tar.xz of 40 × 1 MB files (smooth image-like bytes with noise), compressed at preset 1.
const { tar: tarBytes, xz: xzBytes } = await imageLikeTarXz(40, "big");
const bigArchive = join(dir, "big.tar.xz");
await Deno.writeFile(bigArchive, xzBytes);
const xzSize = (await Deno.stat(bigArchive)).size;
Deno.bench({
  name: `extract tar.xz: ${tarBytes.length / MB | 0} MB in 40 files (${
    (xzSize / MB).toFixed(1)
  } MB compressed)`,
  n: 3,
  warmup: 1,
}, async () => {
  const out = join(dir, `x-${run++}`);
  await extractTarXz(bigArchive, out);
  await Deno.remove(out, { recursive: true });
});

const archive = join(dir, "synthetic.tar.xz");
const packed = await packSyntheticArchive(archive);
Deno.bench(
  { name: `extract synthetic.tar.xz (${(packed.size / MB).toFixed(2)} MB, 138 files)`, n: 10 },
  async () => {
    const out = join(dir, `x-${run++}`);
    await extractTarXz(archive, out);
    await Deno.remove(out, { recursive: true });
  },
);

// Loading one MVTec-sized category: 40 RGB 1024×1024 PNGs, resized to 550 and cropped to 512 as the
// original code does; cold (decode + resize, cache filled) versus warm (read from the cache).
const mvtecLike = join(dir, "mvtec-like");
const trainDir = join(mvtecLike, "widget", "train", "good");
await Deno.mkdir(trainDir, { recursive: true });
await Deno.mkdir(join(mvtecLike, "widget", "test", "good"), { recursive: true });
const pixels = new Uint8Array(1024 * 1024 * 3);
for (let i = 0; i < pixels.length; i++) pixels[i] = ((i / 3) % 1024 >> 2) ^ ((i * 7) & 15);
for (let k = 0; k < 40; k++) {
  pixels.fill(k, 0, 3 * 1024); // distinct images, so each one is decoded and cached on its own
  await sharp(pixels, { raw: { width: 1024, height: 1024, channels: 3 } }).png({ compressionLevel: 1 })
    .toFile(join(trainDir, `${String(k).padStart(3, "0")}.png`));
}
await Deno.copyFile(join(trainDir, "000.png"), join(mvtecLike, "widget", "test", "good", "000.png"));
const pre = { resize: 550, crop: 512 };
Deno.bench({
  name: "load a category of 41 images 1024 px → 550 → 512, cold: decode + resize",
  group: "load",
  n: 3,
}, async () => {
  await loadCategorySplit("mvtec", mvtecLike, "widget", { ...pre, cacheDir: join(dir, `cold-${run++}`) });
});
await loadCategorySplit("mvtec", mvtecLike, "widget", { ...pre, cacheDir: join(dir, "warm") });
Deno.bench({
  name: "load a category of 41 images 1024 px → 550 → 512, warm: from the cache",
  group: "load",
  n: 10,
}, async () => {
  await loadCategorySplit("mvtec", mvtecLike, "widget", { ...pre, cacheDir: join(dir, "warm") });
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
