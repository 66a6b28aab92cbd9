import assert from "node:assert/strict";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { DownloadError, type DownloadOptions, downloadVerified } from "../src/datasets/download.ts";
import type { LockFile } from "../src/datasets/lock.ts";
import { startFaultServer } from "./_fault_server.ts";

/** Test payload: xz magic, then 300 KiB of deterministic bytes. */
function payload(size = 300 * 1024): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
  let x = 12345;
  for (let i = 6; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    bytes[i] = x >>> 24;
  }
  return bytes;
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

const BODY = payload();
const NAME = "blob.tar.xz";

async function lockFile(mirrors: string[] = []): Promise<LockFile> {
  return {
    name: NAME,
    archive: "tar.xz",
    mirrors,
    accept: [{ source: "test", size: BODY.length, sha256: await sha256(BODY) }],
  };
}

const FAST: DownloadOptions = { retries: 2, backoffMs: 5, stallTimeoutMs: 300 };

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function withSetup(
  fn: (ctx: { dir: string; base: string; server: ReturnType<typeof startFaultServer> }) => Promise<void>,
) {
  const server = startFaultServer({ [NAME]: BODY });
  const dir = await Deno.makeTempDir({ prefix: "vtadl-dl-" });
  try {
    await fn({ dir, base: server.base, server });
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("a cut connection is resumed with a Range request and ends verified", async () => {
  await withSetup(async ({ dir, base, server }) => {
    const result = await downloadVerified(await lockFile([`${base}/cut/${NAME}`]), dir, FAST);
    assert.equal(result.sha256, await sha256(BODY));
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
    const ranges = server.requests.map((r) => r.range);
    assert.equal(ranges[0], null);
    assert.match(ranges[1] ?? "", /^bytes=\d+-$/);
    assert.ok(Number(/\d+/.exec(ranges[1]!)![0]) > 0, "resumed from a non-zero offset");
    assert.equal(await exists(join(dir, `${NAME}.part`)), false);
  });
});

Deno.test("a server that ignores Range makes the download restart cleanly", async () => {
  await withSetup(async ({ dir, base, server }) => {
    await downloadVerified(await lockFile([`${base}/cutnorange/${NAME}`]), dir, FAST);
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
    assert.equal(server.requests.length, 2);
    assert.notEqual(server.requests[1].range, null, "asked for a range, got the whole file");
  });
});

Deno.test("a leftover .part from an earlier run is resumed", async () => {
  await withSetup(async ({ dir, base, server }) => {
    await Deno.writeFile(join(dir, `${NAME}.part`), BODY.slice(0, 100_000));
    await downloadVerified(await lockFile([`${base}/ok/${NAME}`]), dir, FAST);
    assert.equal(server.requests[0].range, "bytes=100000-");
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
  });
});

Deno.test("404 on the first mirror moves on to the next", async () => {
  await withSetup(async ({ dir, base }) => {
    const result = await downloadVerified(
      await lockFile([`${base}/404/${NAME}`, `${base}/ok/${NAME}`]),
      dir,
      FAST,
    );
    assert.equal(result.source, `${base}/ok/${NAME}`);
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
  });
});

Deno.test("wrong bytes fail the hash, leave nothing behind and move to the next mirror", async () => {
  await withSetup(async ({ dir, base }) => {
    await assert.rejects(
      downloadVerified(await lockFile([`${base}/wrong/${NAME}`]), dir, FAST),
      (error: Error) => error instanceof DownloadError && /hash mismatch/.test(error.message),
    );
    assert.equal(await exists(join(dir, NAME)), false);
    assert.equal(await exists(join(dir, `${NAME}.part`)), false);
    const ok = await downloadVerified(
      await lockFile([`${base}/wrong/${NAME}`, `${base}/ok/${NAME}`]),
      dir,
      FAST,
    );
    assert.equal(ok.source, `${base}/ok/${NAME}`);
  });
});

Deno.test("an HTML error page is rejected by its magic bytes; the error lists every URL and the fix", async () => {
  await withSetup(async ({ dir, base }) => {
    const file = await lockFile([`${base}/html/${NAME}`, `${base}/404/${NAME}`]);
    const error = await downloadVerified(file, dir, FAST).catch((e) => e);
    assert.ok(error instanceof DownloadError);
    assert.match(
      error.message,
      new RegExp(`${base}/html/${NAME}: content is not a tar.xz file.*3C 21 44 4F.*HTML`),
    );
    assert.match(error.message, new RegExp(`${base}/404/${NAME}: HTTP 404`));
    assert.match(error.message, /--mirror/);
    assert.match(error.message, new RegExp(file.accept[0].sha256!));
    assert.equal(await exists(join(dir, NAME)), false);
    assert.equal(await exists(join(dir, `${NAME}.part`)), false);
    const streamed = await downloadVerified(await lockFile([`${base}/htmlstream/${NAME}`]), dir, FAST).catch((
      e,
    ) => e);
    assert.match(streamed.message, /content is not a tar\.xz file: first bytes 3C 21 44 4F.*HTML/);
    assert.equal(await exists(join(dir, `${NAME}.part`)), false);
  });
});

Deno.test("a stalled transfer is aborted after the stall timeout and the next mirror is used", async () => {
  await withSetup(async ({ dir, base }) => {
    const started = performance.now();
    const result = await downloadVerified(
      await lockFile([`${base}/stall/${NAME}`, `${base}/ok/${NAME}`]),
      dir,
      { ...FAST, retries: 1, stallTimeoutMs: 150 },
    );
    assert.equal(result.source, `${base}/ok/${NAME}`);
    assert.ok(performance.now() - started < 5000);
    const error = await downloadVerified(await lockFile([`${base}/stall/${NAME}`]), join(dir, "b"), {
      ...FAST,
      retries: 0,
      stallTimeoutMs: 150,
    }).catch((e) => e);
    assert.match(error.message, /stalled: no data for 150 ms/);
  });
});

Deno.test("a present file is re-verified through its sidecar, and a tampered one is replaced", async () => {
  await withSetup(async ({ dir, base, server }) => {
    const file = await lockFile([`${base}/ok/${NAME}`]);
    await downloadVerified(file, dir, FAST);
    const again = await downloadVerified(file, dir, FAST);
    assert.equal(again.source, "present");
    assert.equal(server.requests.length, 1);
    const tampered = BODY.slice();
    tampered[1000] ^= 1;
    await Deno.writeFile(join(dir, NAME), tampered);
    const repaired = await downloadVerified(file, dir, FAST);
    assert.equal(repaired.source, `${base}/ok/${NAME}`);
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
    assert.deepEqual(await Deno.readFile(join(dir, `${NAME}.bad`)), tampered);
  });
});

Deno.test("local folders and file:// URLs are mirrors; --mirror bases are tried before the lock's URLs", async () => {
  await withSetup(async ({ dir, base, server }) => {
    const mirrorDir = join(dir, "mirror");
    await Deno.mkdir(mirrorDir);
    await Deno.writeFile(join(mirrorDir, NAME), BODY);
    const file = await lockFile([`${base}/ok/${NAME}`]);
    const viaDir = await downloadVerified(file, join(dir, "a"), { ...FAST, mirrors: [mirrorDir] });
    assert.equal(viaDir.source, join(mirrorDir, NAME));
    const viaUrl = await downloadVerified(file, join(dir, "b"), {
      ...FAST,
      mirrors: [pathToFileURL(mirrorDir).href],
    });
    assert.equal(viaUrl.source, join(mirrorDir, NAME));
    assert.equal(server.requests.length, 0, "the lock's URL was not needed");
    const offline = await downloadVerified(file, join(dir, "c"), { ...FAST, offline: true }).catch((e) => e);
    assert.match(offline.message, /skipped \(--offline\)/);
  });
});

Deno.test("two concurrent downloads of one target end with one verified file, fetched once", async () => {
  await withSetup(async ({ dir, base, server }) => {
    const file = await lockFile([`${base}/slow/${NAME}`]);
    const options = { ...FAST, lockStaleMs: 2000 };
    const [a, b] = await Promise.all([
      downloadVerified(file, dir, options),
      downloadVerified(file, dir, options),
    ]);
    assert.equal(a.sha256, b.sha256);
    assert.deepEqual(await Deno.readFile(join(dir, NAME)), BODY);
    assert.equal(server.requests.length, 1);
    assert.deepEqual([a.source, b.source].sort(), [`${base}/slow/${NAME}`, "present"].sort());
    assert.equal(await exists(join(dir, `${NAME}.lock`)), false);
  });
});

Deno.test("a recompressed .gz is accepted when its decompressed content matches the lock's content hash", async () => {
  await withSetup(async ({ dir }) => {
    const content = new TextEncoder().encode("IDX content ".repeat(5000));
    const upstream = new Uint8Array(
      await new Response(ReadableStream.from([content]).pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer(),
    );
    const recompressed = upstream.slice();
    recompressed[4] = 0x2a; // a different gzip header mtime: other bytes, same content
    await Deno.mkdir(join(dir, "m"));
    await Deno.writeFile(join(dir, "m", "f.gz"), recompressed);
    const file: LockFile = {
      name: "f.gz",
      archive: "gz",
      mirrors: [],
      accept: [{ source: "upstream", size: upstream.length, sha256: await sha256(upstream) }],
      content: { size: content.length, sha256: await sha256(content) },
    };
    const result = await downloadVerified(file, join(dir, "out"), { mirrors: [join(dir, "m")] });
    assert.match(result.matched, /recompressed copy/);
    const wrongContent = { ...file, content: { size: content.length, sha256: "0".repeat(64) } };
    await assert.rejects(
      downloadVerified(wrongContent, join(dir, "out2"), { mirrors: [join(dir, "m")] }),
      /hash mismatch/,
    );
  });
});
