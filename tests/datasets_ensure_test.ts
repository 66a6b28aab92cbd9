import assert from "node:assert/strict";
import { join } from "node:path";
import { xz } from "@napi-rs/lzma";
import { encode as encodePng } from "fast-png";
import { main } from "../main.ts";
import { DownloadError } from "../src/datasets/download.ts";
import { ensureDataset, LayoutError } from "../src/datasets/ensure.ts";
import { DataChangedError, FILE_INDEX, verifyInstalledFiles } from "../src/datasets/installed.ts";
import { LicenceError } from "../src/datasets/licence.ts";
import { listCategories, loadCategorySplit } from "../src/datasets/loaders.ts";
import { loadLock } from "../src/datasets/lock.ts";
import { deterministicTar, generateSyntheticFiles, packSyntheticArchive } from "../src/datasets/synthetic.ts";
import { startFaultServer } from "./_fault_server.ts";

const FAST = { retries: 1, backoffMs: 5, stallTimeoutMs: 2000 };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-ensure-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("synthetic: packed archive matches the lock, downloads from a loopback mirror, extracts and loads", async () => {
  await withDir(async (dir) => {
    const lock = await loadLock();
    const pinned = lock.datasets.synthetic.files[0].accept[0];
    const packed = await packSyntheticArchive(join(dir, "mirror", "synthetic.tar.xz"));
    const bytes = await Deno.readFile(join(dir, "mirror", "synthetic.tar.xz"));
    assert.equal(
      await sha256(bytes),
      pinned.sha256,
      "the packed archive is byte-identical to the pinned one",
    );
    assert.equal(packed.manifestSha256, lock.datasets.synthetic.generator!.manifestSha256);
    const server = startFaultServer({ "synthetic.tar.xz": bytes });
    try {
      const dataDir = join(dir, "data");
      const ds = await ensureDataset("synthetic", {
        dataDir,
        mirrors: [`${server.base}/cut/`],
        quiet: true,
        download: FAST,
      });
      assert.equal(ds.status, "downloaded");
      assert.deepEqual(ds.archiveDigests, { "synthetic.tar.xz": pinned.sha256 });
      assert.equal(ds.manifestSha256, lock.datasets.synthetic.generator!.manifestSha256);
      assert.deepEqual(await listCategories("synthetic", ds.root), ["disc", "lattice", "weave"]);
      const split = await loadCategorySplit("synthetic", ds.root, "disc", { resize: 64, crop: 56 });
      assert.equal(split.train.length, 24);
      assert.equal(split.test.filter((s) => s.label === 1).length, 8);
      assert.ok(split.test.every((s) => s.pixels.length === 56 * 56 * 3));
      const again = await ensureDataset("synthetic", {
        dataDir,
        mirrors: [`${server.base}/ok/`],
        quiet: true,
      });
      assert.equal(again.status, "present");
      assert.equal(server.requests.length, 2, "one cut request, one resumed request, nothing on re-ensure");
    } finally {
      await server.close();
    }
  });
});

Deno.test("two processes downloading synthetic into one data dir: one transfer, both succeed", async () => {
  await withDir(async (dir) => {
    await packSyntheticArchive(join(dir, "synthetic.tar.xz"));
    const bytes = await Deno.readFile(join(dir, "synthetic.tar.xz"));
    // ~50 pieces 40 ms apart: the transfer takes ~2 s, so the two processes overlap.
    const server = startFaultServer({ "synthetic.tar.xz": bytes }, { slowDelayMs: 40 });
    try {
      const dataDir = join(dir, "data");
      const spawn = () =>
        new Deno.Command(Deno.execPath(), {
          args: [
            "run",
            "--allow-read",
            "--allow-write",
            "--allow-net=127.0.0.1",
            "--allow-env",
            "--allow-ffi",
            "--allow-sys",
            new URL("../main.ts", import.meta.url).pathname,
            "download",
            "synthetic",
            "--data-dir",
            dataDir,
            "--mirror",
            `${server.base}/slow/`,
            "--quiet",
          ],
          stdout: "piped",
          stderr: "piped",
        }).output();
      const [a, b] = await Promise.all([spawn(), spawn()]);
      const decode = (x: Uint8Array) => new TextDecoder().decode(x);
      assert.equal(a.code, 0, decode(a.stderr));
      assert.equal(b.code, 0, decode(b.stderr));
      const statuses = [JSON.parse(decode(a.stdout)).status, JSON.parse(decode(b.stdout)).status].sort();
      assert.deepEqual(statuses, ["downloaded", "present"]);
      assert.equal(server.requests.length, 1, "the archive was transferred once");
      const names = [...Deno.readDirSync(dataDir)].map((e) => e.name).sort();
      assert.deepEqual(names, ["downloads", "synthetic"], "no lock, temp or half-written folder left");
      assert.deepEqual(await Deno.readFile(join(dataDir, "downloads/synthetic/synthetic.tar.xz")), bytes);
    } finally {
      await server.close();
    }
  });
});

Deno.test("an archive that verifies but misses images is a LayoutError listing the differences", async () => {
  await withDir(async (dir) => {
    const files = generateSyntheticFiles();
    files.delete("synthetic/disc/train/good/003.png");
    files.delete("synthetic/weave/ground_truth/spot/001_mask.png");
    files.set(
      "synthetic/lattice/test/good/000.png",
      encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32 * 3), channels: 3, depth: 8 }),
    );
    const archive = new Uint8Array(await xz.compress(await deterministicTar(files)));
    await Deno.mkdir(join(dir, "mirror"));
    await Deno.writeFile(join(dir, "mirror", "synthetic.tar.xz"), archive);
    const lock = JSON.parse(await Deno.readTextFile("datasets.lock.json"));
    lock.datasets.synthetic.files[0].accept = [{
      source: "short mirror",
      size: archive.length,
      sha256: await sha256(archive),
    }];
    await Deno.writeTextFile(join(dir, "lock.json"), JSON.stringify(lock));
    const error = await ensureDataset("synthetic", {
      dataDir: join(dir, "data"),
      lockPath: join(dir, "lock.json"),
      mirrors: [join(dir, "mirror")],
      quiet: true,
    }).catch((e) => e);
    assert.ok(error instanceof LayoutError, String(error));
    assert.match(error.message, /disc: trainGood 23, expected 24/);
    assert.match(error.message, /weave: masks 7, expected 8/);
    assert.match(error.message, /lattice: image sizes 32×32, 64×64, expected 64×64/);
    assert.match(error.message, /lattice: colour types grey, rgb, expected grey/);
    const entries = [...Deno.readDirSync(join(dir, "data"))].map((e) => e.name);
    assert.ok(!entries.includes("synthetic"), "nothing installed under the final name");
    assert.ok(!entries.some((n) => n.includes("extracting")), "temporary folder removed");
  });
});

Deno.test("MVTec needs --accept-license once; offline without a mirror lists what to do", async () => {
  await withDir(async (dataDir) => {
    await assert.rejects(
      ensureDataset("mvtec", { dataDir, quiet: true }),
      (e: Error) => e instanceof LicenceError && /CC BY-NC-SA 4\.0.*--accept-license/.test(e.message),
    );
    const error = await ensureDataset("mvtec", { dataDir, acceptLicense: true, offline: true, quiet: true })
      .catch((e) => e);
    assert.ok(error instanceof DownloadError, String(error));
    assert.match(error.message, /mydrive\.ch.*skipped \(--offline\)/);
    assert.match(error.message, /cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d/);
    const record = JSON.parse(await Deno.readTextFile(join(dataDir, "licences-accepted.json")));
    assert.equal(record.mvtec.licence, "CC BY-NC-SA 4.0");
    // Accepted once: the gate no longer blocks (it fails later, at the download, for the same reason).
    const later = await ensureDataset("mvtec", { dataDir, offline: true, quiet: true }).catch((e) => e);
    assert.ok(later instanceof DownloadError);
  });
});

Deno.test("a multi-file dataset that cannot be fetched lists every file in one error", async () => {
  await withDir(async (dataDir) => {
    const error = await ensureDataset("mnist", { dataDir, offline: true, quiet: true }).catch((e) => e);
    assert.ok(error instanceof DownloadError, String(error));
    assert.match(error.message, /mnist: 4 of 4 files could not be fetched/);
    for (const name of ["train-images", "train-labels", "t10k-images", "t10k-labels"]) {
      assert.match(error.message, new RegExp(`could not get ${name}-idx\\d-ubyte\\.gz`));
    }
    assert.equal(error.failures.length, 8);
  });
});

const FASHION = "/usr/share/datasets/fashion-mnist";
const haveFashion = (() => {
  try {
    return Deno.statSync(join(FASHION, "t10k-labels-idx1-ubyte.gz")).isFile;
  } catch {
    return false;
  }
})();
if (!haveFashion) {
  console.log(
    `skipping the Fashion-MNIST test: ${FASHION} is absent (apt-get install dataset-fashion-mnist)`,
  );
}

Deno.test({
  name: "fashion-mnist from the Debian folder as a mirror: verified, extracted, one-class split of class 0",
  ignore: !haveFashion,
  async fn() {
    await withDir(async (dataDir) => {
      const log = console.log;
      console.log = () => {};
      try {
        const args = ["download", "fashion-mnist", "--data-dir", dataDir, "--mirror", FASHION, "--quiet"];
        assert.equal(await main(args), 0);
      } finally {
        console.log = log;
      }
      const ds = await ensureDataset("fashion-mnist", { dataDir, quiet: true });
      assert.equal(ds.status, "present");
      const split = await loadCategorySplit("fashion-mnist", ds.root, "0", { resize: 28, crop: 28 });
      assert.equal(split.train.length, 6000);
      assert.equal(split.test.length, 10000);
      assert.equal(split.test.filter((s) => s.label === 0).length, 1000);
    });
  },
});

Deno.test("download command: unknown dataset is a usage error; synthetic works offline", async () => {
  await withDir(async (dataDir) => {
    const original = console.log;
    const printed: string[] = [];
    console.log = (...a: unknown[]) => printed.push(a.join(" "));
    const originalError = console.error;
    console.error = () => {};
    try {
      assert.equal(await main(["download", "imagenet"]), 2);
      assert.equal(await main(["download", "synthetic", "--data-dir", dataDir, "--quiet"]), 0);
      assert.equal(await main(["download", "mnist", "--pack", dataDir]), 2);
    } finally {
      console.log = original;
      console.error = originalError;
    }
    const result = JSON.parse(printed.join("\n"));
    assert.equal(result.root, join(dataDir, "synthetic", "synthetic"));
    assert.equal(result.status, "generated");
  });
});

Deno.test("a present dataset whose files were edited stops the run naming the file; --verify hashes every file", async () => {
  // The defect: edited extracted files were reported "present" and changed the metrics under the same
  // lock digest.
  await withDir(async (dir) => {
    const dataDir = join(dir, "data");
    const first = await ensureDataset("synthetic", { dataDir, quiet: true });
    assert.equal(first.status, "generated");
    const index = JSON.parse(await Deno.readTextFile(join(dataDir, "synthetic", FILE_INDEX)));
    assert.equal(Object.keys(index.files).length, 3 * (24 + 6 + 8 + 8));

    // Touched but unchanged: still present (the index learns the new mtime).
    const rel = "synthetic/disc/test/good/000.png";
    const path = join(dataDir, "synthetic", rel);
    const later = new Date(Date.now() + 60_000);
    await Deno.utime(path, later, later);
    assert.equal((await ensureDataset("synthetic", { dataDir, quiet: true })).status, "present");

    // Same size and mtime, one byte changed: only a full verification notices.
    const bytes = await Deno.readFile(path);
    const stat = await Deno.stat(path);
    bytes[bytes.length - 20] ^= 0xff;
    await Deno.writeFile(path, bytes);
    await Deno.utime(path, stat.atime!, stat.mtime!);
    assert.equal((await ensureDataset("synthetic", { dataDir, quiet: true })).status, "present");
    await assert.rejects(
      ensureDataset("synthetic", { dataDir, quiet: true, verify: true }),
      (e) => e instanceof DataChangedError && e.message.includes(`changed: ${rel}`),
    );

    // A changed size, a removed and an added file are found on every use.
    await Deno.writeFile(path, bytes.subarray(1));
    await Deno.remove(join(dataDir, "synthetic", "synthetic/weave/train/good/000.png"));
    await Deno.writeTextFile(join(dataDir, "synthetic", "synthetic/lattice/test/good/extra.png"), "x");
    await assert.rejects(
      ensureDataset("synthetic", { dataDir, quiet: true }),
      (e) =>
        e instanceof DataChangedError && e.message.includes(`changed: ${rel}`) &&
        e.message.includes("missing: synthetic/weave/train/good/000.png") &&
        e.message.includes("added: synthetic/lattice/test/good/extra.png") &&
        /delete .* and run 'deno task download synthetic'/.test(e.message),
    );
  });
});

Deno.test("a tree installed before file indexes existed is hashed once against its manifest", async () => {
  await withDir(async (dir) => {
    const dataDir = join(dir, "data");
    await ensureDataset("synthetic", { dataDir, quiet: true });
    await Deno.remove(join(dataDir, "synthetic", FILE_INDEX));
    assert.equal((await ensureDataset("synthetic", { dataDir, quiet: true })).status, "present");
    await Deno.stat(join(dataDir, "synthetic", FILE_INDEX));
    const check = await verifyInstalledFiles("synthetic", join(dataDir, "synthetic"));
    assert.equal(check.hashed, 0, "the rebuilt index makes the next check cheap");
  });
});
