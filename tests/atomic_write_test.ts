import assert from "node:assert/strict";
import { writeFileAtomic, writeJsonAtomic } from "../src/util/atomic_write.ts";

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
