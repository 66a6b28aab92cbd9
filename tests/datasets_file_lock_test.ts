import assert from "node:assert/strict";
import { join } from "node:path";
import { withFileLock } from "../src/datasets/file_lock.ts";

Deno.test("the lock serialises holders, is removed afterwards, and a stale lock is taken over", async () => {
  const dir = await Deno.makeTempDir({ prefix: "vtadl-lock-" });
  try {
    const lock = join(dir, "t.lock");
    const order: string[] = [];
    const holder = (name: string) =>
      withFileLock(lock, async () => {
        order.push(`${name}+`);
        await new Promise((r) => setTimeout(r, 50));
        order.push(`${name}-`);
      }, { pollMs: 10 });
    await Promise.all([holder("a"), holder("b")]);
    assert.deepEqual(order.map((s) => s[1]).join(""), "+-+-", `holders overlapped: ${order.join(" ")}`);
    await assert.rejects(Deno.stat(lock), Deno.errors.NotFound);

    // A lock left by a dead process (not refreshed for longer than staleMs) is taken over.
    await Deno.writeTextFile(lock, "12345 dead\n");
    const old = new Date(Date.now() - 10_000);
    await Deno.utime(lock, old, old);
    assert.equal(
      await withFileLock(lock, () => Promise.resolve("ran"), { staleMs: 1000, pollMs: 10 }),
      "ran",
    );

    // A live holder (fresh mtime) makes a waiter time out with a message naming the lock.
    await Deno.writeTextFile(lock, "live\n");
    await assert.rejects(
      withFileLock(lock, () => Promise.resolve(), { timeoutMs: 100, staleMs: 60_000, pollMs: 10 }),
      new RegExp(`waiting for lock ${lock.replaceAll(".", "\\.")}`),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
