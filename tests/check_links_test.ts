/**
 * `check-links` against loopback servers (tests/_fault_server.ts) with a lock pointed at them: a URL passes
 * only when its bytes are right (magic, size, hash), never for a 200 alone.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { checkLinks, type LinkReport } from "../src/datasets/link_check.ts";
import { type DatasetsLock, loadLock } from "../src/datasets/lock.ts";
import { startFaultServer } from "./_fault_server.ts";

/** A gzip-looking body: the magic bytes, then seeded bytes. */
function gzBody(size: number, seed: number): Uint8Array {
  const body = new Uint8Array(size);
  let x = seed;
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    body[i] = x >>> 24;
  }
  body.set([0x1f, 0x8b, 0x08, 0x00]);
  return body;
}

const md5 = (b: Uint8Array) => createHash("md5").update(b).digest("hex");

/** The real lock with every URL removed except mnist's, which point at `base` with the given modes. */
async function lockAt(
  base: string,
  small: Uint8Array,
  big: Uint8Array,
  modes: string[],
): Promise<DatasetsLock> {
  const lock = structuredClone(await loadLock());
  for (const entry of Object.values(lock.datasets)) for (const f of entry.files) f.mirrors = [];
  const [trainImages, trainLabels, testImages] = lock.datasets.mnist.files;
  trainImages.mirrors = modes.map((m) => `${base}/${m}/small.gz`);
  trainImages.accept = [{ source: "test", size: small.length, md5: md5(small) }];
  trainLabels.mirrors = modes.includes("ok") ? [`${base}/ok/small.gz`] : [];
  trainLabels.accept = [{ source: "test (wrong size)", size: small.length + 1, md5: md5(small) }];
  testImages.mirrors = [`${base}/ok/big.gz`];
  testImages.accept = [{ source: "test", size: big.length, md5: md5(big) }];
  return lock;
}

Deno.test("check-links: per-URL facts; HTML, wrong bytes, wrong size and 404 fail; a big file is not fetched", async () => {
  const small = gzBody(6000, 1), big = gzBody(300_000, 2);
  const server = startFaultServer({ "small.gz": small, "big.gz": big });
  try {
    const lock = await lockAt(server.base, small, big, ["ok", "norange", "404", "html", "wrong"]);
    const reports = await checkLinks(lock, { fullDownloadLimit: 100_000, timeoutMs: 5000 });
    const at = (file: string, mode: string): LinkReport =>
      reports.find((r) => r.file === file && r.url.includes(`/${mode}/`))!;
    assert.equal(reports.length, 7);

    const ok = at("train-images-idx3-ubyte.gz", "ok");
    assert.equal(ok.ok, true, ok.problems.join("; "));
    assert.deepEqual(
      [ok.reachable, ok.rangeSupported, ok.size, ok.sizeMatches, ok.hashed, ok.hashMatches, ok.servesHtml],
      [true, true, small.length, true, true, true, false],
    );
    const norange = at("train-images-idx3-ubyte.gz", "norange");
    assert.equal(norange.ok, true, norange.problems.join("; "));
    assert.equal(norange.rangeSupported, false);
    assert.equal(norange.rangeStatus, 200);

    const missing = at("train-images-idx3-ubyte.gz", "404");
    assert.equal(missing.ok, false);
    assert.equal(missing.reachable, false);
    assert.equal(missing.headStatus, 404);

    const html = at("train-images-idx3-ubyte.gz", "html");
    assert.equal(html.rangeStatus, 200, "the page is served with 200");
    assert.equal(html.ok, false);
    assert.equal(html.servesHtml, true);
    assert.equal(html.magicMatches, false);

    const wrong = at("train-images-idx3-ubyte.gz", "wrong");
    assert.equal(wrong.rangeStatus, 200);
    assert.equal(wrong.sizeMatches, true);
    assert.equal(wrong.magicMatches, true);
    assert.equal(wrong.hashMatches, false);
    assert.equal(wrong.ok, false);

    const sized = at("train-labels-idx1-ubyte.gz", "ok");
    assert.equal(sized.sizeMatches, false);
    assert.equal(sized.ok, false);
    assert.match(sized.problems.join(";"), /size 6000 bytes, expected 6001/);

    const large = at("t10k-images-idx3-ubyte.gz", "ok");
    assert.equal(large.ok, true, large.problems.join("; "));
    assert.equal(large.hashed, false);
    assert.equal(large.sizeMatches, true);
    // A HEAD and the Range GET only: no full download.
    assert.deepEqual(server.requests.filter((r) => r.name === "big.gz").map((r) => r.range), [
      null,
      "bytes=0-1023",
    ]);
  } finally {
    await server.close();
  }
});

async function runCli(lockPath: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-net=127.0.0.1",
      new URL("../main.ts", import.meta.url).pathname,
      "check-links",
      "--lock",
      lockPath,
      "--timeout",
      "5",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code, stdout: new TextDecoder().decode(stdout), stderr: new TextDecoder().decode(stderr) };
}

Deno.test("check-links CLI: exit 0 when every URL is right, exit 1 with a per-URL table when one is not", async () => {
  const small = gzBody(4000, 3), big = gzBody(20_000, 4);
  const server = startFaultServer({ "small.gz": small, "big.gz": big });
  const dir = await Deno.makeTempDir();
  try {
    const good = join(dir, "good.json");
    const lock = await lockAt(server.base, small, big, ["ok"]);
    lock.datasets.mnist.files[1].mirrors = []; // its pinned size is wrong on purpose
    await Deno.writeTextFile(good, JSON.stringify(lock));
    const pass = await runCli(good);
    assert.equal(pass.code, 0, pass.stdout + pass.stderr);
    assert.match(pass.stdout, /PASS: 2\/2 URLs ok/);

    const bad = join(dir, "bad.json");
    await Deno.writeTextFile(bad, JSON.stringify(await lockAt(server.base, small, big, ["ok", "html"])));
    const fail = await runCli(bad);
    assert.equal(fail.code, 1, fail.stdout + fail.stderr);
    const htmlRow = fail.stdout.split("\n").find((l) => l.startsWith("FAIL") && l.includes("/html/small.gz"));
    assert.ok(htmlRow, fail.stdout);
    assert.match(htmlRow, /\bYES\b/, "serves HTML");
    assert.match(fail.stdout, /serves an HTML page, not the file/);
    assert.match(fail.stdout, /FAIL: 2\/4 URLs ok/);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
