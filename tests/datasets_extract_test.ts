import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { join } from "node:path";
import { xz } from "@napi-rs/lzma";
import { zipSync } from "fflate";
// @ts-types="npm:@types/tar-stream@3.1.5"
import tar from "tar-stream";
import {
  ArchiveError,
  extractGzip,
  extractTarXz,
  extractZip,
  safeEntryPath,
  UnsafeArchiveError,
} from "../src/datasets/extract.ts";

type TarEntry = { name: string; type?: string; linkname?: string; body?: string };

async function tarXz(entries: TarEntry[]): Promise<Uint8Array> {
  const pack = tar.pack();
  const chunks: Uint8Array[] = [];
  const done = (async () => {
    for await (const chunk of pack) chunks.push(chunk as Uint8Array);
  })();
  for (const e of entries) {
    const header = {
      name: e.name,
      type: (e.type ?? "file") as "file",
      linkname: e.linkname,
      mtime: new Date(0),
    };
    pack.entry(header, e.body !== undefined ? Buffer.from(e.body) : undefined);
  }
  pack.finalize();
  await done;
  return new Uint8Array(await xz.compress(Buffer.concat(chunks)));
}

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-extract-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

async function extractCrafted(dir: string, entries: TarEntry[]): Promise<unknown> {
  const archive = join(dir, "crafted.tar.xz");
  await Deno.writeFile(archive, await tarXz(entries));
  await Deno.mkdir(join(dir, "out"));
  return await extractTarXz(archive, join(dir, "out"), "crafted.tar.xz").catch((e) => e);
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("entry paths are normalised; absolute, '..' and backslash paths are refused", () => {
  assert.equal(safeEntryPath("./a/./b//c.png", "x"), "a/b/c.png");
  assert.equal(safeEntryPath("./", "x"), "");
  assert.throws(() => safeEntryPath("/etc/passwd", "x"), /absolute path/);
  assert.throws(() => safeEntryPath("C:/windows", "x"), /absolute path/);
  assert.throws(() => safeEntryPath("a/../../b", "x"), /'\.\.'/);
  assert.throws(() => safeEntryPath("a\\..\\b", "x"), /backslash/);
});

Deno.test("a safe tar.xz extracts with inner hard links and a manifest of SHA-256s", async () => {
  await withDir(async (dir) => {
    const manifest = await extractCrafted(dir, [
      { name: "root/", type: "directory" },
      { name: "root/a.txt", body: "hello" },
      { name: "root/hard", type: "link", linkname: "root/a.txt" },
    ]) as Map<string, string>;
    assert.ok(manifest instanceof Map, String(manifest));
    assert.equal(await Deno.readTextFile(join(dir, "out/root/a.txt")), "hello");
    assert.equal(await Deno.readTextFile(join(dir, "out/root/hard")), "hello");
    assert.equal((await Deno.lstat(join(dir, "out/root/hard"))).isFile, true, "a copy, not a link");
    assert.equal(
      manifest.get("root/a.txt"),
      "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824",
    );
  });
});

for (
  const [what, entries, pattern] of [
    ["an absolute path", [{ name: "/tmp/evil.txt", body: "x" }], /absolute path/],
    ["a '..' path", [{ name: "a/../../evil.txt", body: "x" }], /'\.\.'/],
    [
      "a symlink escaping the target",
      [{ name: "a/link", type: "symlink", linkname: "../../etc" }],
      /symbolic link \(to \.\.\/\.\.\/etc\)/,
    ],
    ["an absolute symlink", [{ name: "link", type: "symlink", linkname: "/etc/passwd" }], /symbolic link/],
    [
      "a symlink inside the target",
      [{ name: "link", type: "symlink", linkname: "a.txt" }],
      /plain files only/,
    ],
    [
      // The defect: each link stays inside on its own, but w resolves to ../.. of the target.
      "a chain of relative symlinks (x → ., y → x/.., z → y/.., w → z/..)",
      [
        { name: "x", type: "symlink", linkname: "." },
        { name: "y", type: "symlink", linkname: "x/.." },
        { name: "z", type: "symlink", linkname: "y/.." },
        { name: "w", type: "symlink", linkname: "z/.." },
      ],
      /entry "x" is a symbolic link/,
    ],
    [
      "a hard link escaping the target",
      [{ name: "hard", type: "link", linkname: "../outside.txt" }],
      /outside/,
    ],
    ["a character device", [{ name: "dev", type: "character-device" }], /character-device/],
    ["a FIFO", [{ name: "pipe", type: "fifo" }], /fifo/],
    [
      "a file written through an inner symlink",
      [{ name: "up", type: "symlink", linkname: "." }, { name: "up/x.txt", body: "x" }],
      /symbolic link/,
    ],
  ] as [string, TarEntry[], RegExp][]
) {
  Deno.test(`tar.xz with ${what} is refused with a clear error`, async () => {
    await withDir(async (dir) => {
      const error = await extractCrafted(dir, entries);
      assert.ok(error instanceof UnsafeArchiveError, `expected UnsafeArchiveError, got ${error}`);
      assert.match(error.message, /refusing unsafe archive crafted\.tar\.xz/);
      assert.match(error.message, pattern);
      assert.equal(await exists(join(dir, "evil.txt")), false);
      assert.equal(await exists("/tmp/evil.txt"), false);
      // Nothing in the output is a link (so nothing can point outside it).
      for await (const entry of Deno.readDir(join(dir, "out"))) {
        assert.equal(entry.isSymlink, false, entry.name);
      }
    });
  });
}

Deno.test("a truncated tar.xz is an ArchiveError naming the archive", async () => {
  await withDir(async (dir) => {
    const bytes = await tarXz([{ name: "a.txt", body: "x".repeat(100_000) }]);
    await Deno.writeFile(join(dir, "t.tar.xz"), bytes.slice(0, Math.floor(bytes.length / 2)));
    await assert.rejects(
      extractTarXz(join(dir, "t.tar.xz"), join(dir, "out"), "t.tar.xz"),
      (e: Error) => e instanceof ArchiveError && /t\.tar\.xz.*corrupt or truncated/.test(e.message),
    );
  });
});

function zipWith(files: Record<string, [Uint8Array, { os?: number; attrs?: number }]>): Uint8Array {
  return zipSync(files, { level: 0 });
}

Deno.test("zip: a safe archive extracts; '..', absolute, escaping symlink and device entries are refused", async () => {
  await withDir(async (dir) => {
    const text = (s: string) => new TextEncoder().encode(s);
    const cases: [string, Uint8Array, RegExp | null][] = [
      ["ok.zip", zipWith({ "top/a.txt": [text("a"), {}], "top/b/c.txt": [text("c"), {}] }), null],
      ["dots.zip", zipWith({ "../evil.txt": [text("x"), {}] }), /\.\./],
      ["abs.zip", zipWith({ "/evil.txt": [text("x"), {}] }), /absolute path/],
      ["link.zip", zipWith({ "l": [text("../../etc"), { os: 3, attrs: 0o120777 << 16 }] }), /symbolic link/],
      [
        "inner-link.zip",
        zipWith({ "l": [text("a.txt"), { os: 3, attrs: 0o120777 << 16 }] }),
        /symbolic link/,
      ],
      ["dev.zip", zipWith({ "d": [text(""), { os: 3, attrs: 0o020644 << 16 }] }), /device/],
    ];
    for (const [name, bytes, pattern] of cases) {
      await Deno.writeFile(join(dir, name), bytes);
      const out = join(dir, `out-${name}`);
      await Deno.mkdir(out);
      const result = await extractZip(join(dir, name), out, name).catch((e) => e);
      if (pattern === null) {
        assert.ok(result instanceof Map, String(result));
        assert.equal(await Deno.readTextFile(join(out, "top/b/c.txt")), "c");
      } else {
        assert.ok(result instanceof UnsafeArchiveError, `${name}: ${result}`);
        assert.match(result.message, new RegExp(`refusing unsafe archive ${name.replace(".", "\\.")}`));
        assert.match(result.message, pattern);
      }
    }
    assert.equal(await exists(join(dir, "evil.txt")), false);
  });
});

Deno.test("gzip extraction returns the decompressed SHA-256; a truncated .gz is an error naming the file", async () => {
  await withDir(async (dir) => {
    const data = new TextEncoder().encode("idx-bytes".repeat(1000));
    const gz = new Uint8Array(
      await new Response(ReadableStream.from([data]).pipeThrough(new CompressionStream("gzip")))
        .arrayBuffer(),
    );
    await Deno.writeFile(join(dir, "f.gz"), gz);
    const result = await extractGzip(join(dir, "f.gz"), join(dir, "f"));
    const expected = Array.from(
      new Uint8Array(await crypto.subtle.digest("SHA-256", data)),
      (b) => b.toString(16).padStart(2, "0"),
    ).join("");
    assert.deepEqual(result, { size: data.length, sha256: expected });
    await Deno.writeFile(join(dir, "t.gz"), gz.slice(0, gz.length - 20));
    await assert.rejects(extractGzip(join(dir, "t.gz"), join(dir, "t")), /t\.gz.*corrupt or truncated/);
    assert.equal(await exists(join(dir, "t")), false);
  });
});
