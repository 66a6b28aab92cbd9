/**
 * A tiny BTAD written in its real layout (`BTech_Dataset_transformed/01/{train,test}/{ok,ko}`, PNG masks
 * under `ground_truth/ko`), zipped into a mirror folder, with a copy of the real lock whose `btad` entry
 * pins that zip and its counts. Commands pointed at it with `--lock` and `--mirror` install it as they
 * would the real one.
 *
 * @module
 */
import { join } from "node:path";
import { encode as encodePng } from "fast-png";
import { zipSync } from "fflate";
import { loadLock } from "../../src/datasets/lock.ts";
import { sha256Hex } from "../../src/datasets/hashing.ts";

const SIDE = 40;

function png(seed: number, defect: boolean): Uint8Array {
  const data = new Uint8Array(SIDE * SIDE * 3);
  for (let i = 0; i < SIDE * SIDE; i++) data.fill(60 + ((i * 7 + seed * 13) % 50), i * 3, i * 3 + 3);
  if (defect) { for (let y = 10; y < 18; y++) data.fill(240, (y * SIDE + 10) * 3, (y * SIDE + 18) * 3); }
  return encodePng({ width: SIDE, height: SIDE, data, channels: 3, depth: 8 });
}

function maskPng(): Uint8Array {
  const data = new Uint8Array(SIDE * SIDE);
  for (let y = 10; y < 18; y++) data.fill(255, y * SIDE + 10, y * SIDE + 18);
  return encodePng({ width: SIDE, height: SIDE, data, channels: 1, depth: 8 });
}

/** Writes the mirror and the lock under `dir`; returns their paths. */
export async function writeBtadFixture(dir: string): Promise<{ lock: string; mirror: string }> {
  const root = "BTech_Dataset_transformed/01";
  const files: Record<string, Uint8Array> = {};
  for (let i = 0; i < 6; i++) files[`${root}/train/ok/${String(i).padStart(4, "0")}.png`] = png(i, false);
  for (let i = 0; i < 2; i++) files[`${root}/test/ok/${String(i).padStart(4, "0")}.png`] = png(10 + i, false);
  for (let i = 0; i < 2; i++) {
    files[`${root}/test/ko/${String(i).padStart(4, "0")}.png`] = png(20 + i, true);
    files[`${root}/ground_truth/ko/${String(i).padStart(4, "0")}.png`] = maskPng();
  }
  const zip = zipSync(files, { level: 0 });
  const mirror = join(dir, "mirror");
  await Deno.mkdir(mirror, { recursive: true });
  await Deno.writeFile(join(mirror, "btad.zip"), zip);
  const lock = await loadLock();
  const btad = lock.datasets.btad;
  btad.files = [{
    name: "btad.zip",
    archive: "zip",
    mirrors: [],
    accept: [{ source: "test fixture", size: zip.length, sha256: sha256Hex(zip) }],
  }];
  if (btad.layout.kind !== "categories") throw new Error("btad layout is not categories");
  btad.layout.categories = {
    "01": { trainGood: 6, testGood: 2, testDefect: 2, masks: 2, defectTypes: 1, imageSize: [SIDE, SIDE] },
  };
  const lockPath = join(dir, "datasets.lock.json");
  await Deno.writeTextFile(lockPath, JSON.stringify(lock, null, 2));
  return { lock: lockPath, mirror };
}
