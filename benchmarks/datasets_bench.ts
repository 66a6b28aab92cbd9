/**
 * Data-layer throughput: verified download from a loopback server, copy from a local mirror, cheap
 * re-verification of a present file, tar.xz extraction, and loading one category cold (decode + resize)
 * versus warm (from the preprocessed cache).
 *
 * Run: `deno task bench` (needs `--allow-net=127.0.0.1` for the loopback server).
 */
import { join } from "node:path";
import { downloadVerified } from "../src/datasets/download.ts";
import { extractTarXz } from "../src/datasets/extract.ts";
import type { LockFile } from "../src/datasets/lock.ts";
import { loadCategorySplit } from "../src/datasets/loaders.ts";
import { packSyntheticArchive, writeSyntheticTree } from "../src/datasets/synthetic.ts";

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

// One category (38 images + 8 masks) preprocessed as the paper does: resize 550, crop 512.
const tree = join(dir, "tree");
await writeSyntheticTree(tree);
const root = join(tree, "synthetic");
const pre = { resize: 550, crop: 512 };
Deno.bench(
  { name: "load category 'disc' (38 images, 550→512) cold: decode + resize", group: "load", n: 3 },
  async () => {
    await loadCategorySplit("synthetic", root, "disc", { ...pre, cacheDir: join(dir, `cold-${run++}`) });
  },
);
await loadCategorySplit("synthetic", root, "disc", { ...pre, cacheDir: join(dir, "warm") });
Deno.bench(
  { name: "load category 'disc' (38 images, 550→512) warm: from the cache", group: "load", n: 10 },
  async () => {
    await loadCategorySplit("synthetic", root, "disc", { ...pre, cacheDir: join(dir, "warm") });
  },
);

globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});
