import assert from "node:assert/strict";
import { writeFileAtomic, writeJsonAtomic } from "../src/util/atomic_write.ts";
import { WriteError, writeError } from "../src/util/fs.ts";

Deno.test("writeFileAtomic creates parents and leaves no temp file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeFileAtomic(`${dir}/a/b/file.txt`, "hello");
    assert.equal(await Deno.readTextFile(`${dir}/a/b/file.txt`), "hello");
    await writeJsonAtomic(`${dir}/a/b/file.txt`, { x: 1 });
    assert.deepEqual(JSON.parse(await Deno.readTextFile(`${dir}/a/b/file.txt`)), { x: 1 });
    const names = [...Deno.readDirSync(`${dir}/a/b`)].map((e) => e.name);
    assert.deepEqual(names, ["file.txt"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

/**
 * Runs `fn` while every file opened for writing fails its writes as a full disk does on Linux
 * ("No space left on device (os error 28)", the error Deno gives for ENOSPC).
 */
async function withFullDisk<T>(fn: () => Promise<T>): Promise<T> {
  const open = Deno.open;
  const patched = async (path: string | URL, options?: Deno.OpenOptions) => {
    const file = await open(path, options);
    if (!options?.write) return file;
    return new Proxy(file, {
      get(target, key) {
        if (key === "write") return () => Promise.reject(new Error("No space left on device (os error 28)"));
        const value = Reflect.get(target, key);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  };
  (Deno as unknown as { open: unknown }).open = patched;
  try {
    return await fn();
  } finally {
    (Deno as unknown as { open: unknown }).open = open;
  }
}

Deno.test({
  name: "a full disk is reported with the path being written and what to do",
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const target = `${dir}/runs/x/result.json`;
      await assert.rejects(
        withFullDisk(() => writeFileAtomic(target, "{}")),
        (e: Error) =>
          e instanceof WriteError && e.message.includes(`cannot write ${target}: the disk is full`) &&
          /free some space/.test(e.message),
      );
      assert.deepEqual([...Deno.readDirSync(`${dir}/runs/x`)], [], "no temp file is left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("writeError names the path of any failed write once", () => {
  const plain = writeError("/data/a.bin", new Error("Broken pipe (os error 32)"));
  assert.equal(plain.message, "cannot write /data/a.bin: Broken pipe (os error 32)");
  assert.equal(writeError("/data/a.bin", plain), plain);
});
