import assert from "node:assert/strict";
import { adviseHugePages } from "../src/util/huge_pages.ts";

/**
 * The VmFlags of this process's mapping that holds `address`, or null (smaps read by `cat`: Deno lets
 * only --allow-all read its own /proc/self/smaps).
 */
function vmFlagsAt(address: bigint): string[] | null {
  const out = new Deno.Command("cat", { args: [`/proc/${Deno.pid}/smaps`] }).outputSync();
  let inside = false;
  for (const line of new TextDecoder().decode(out.stdout).split("\n")) {
    const range = /^([0-9a-f]+)-([0-9a-f]+) /.exec(line);
    if (range) inside = BigInt(`0x${range[1]}`) <= address && address < BigInt(`0x${range[2]}`);
    else if (inside && line.startsWith("VmFlags:")) return line.slice(8).trim().split(/\s+/);
  }
  return null;
}

Deno.test({
  name: "adviseHugePages: a big fresh buffer's mapping is marked for huge pages and keeps its contents",
  ignore: Deno.build.os !== "linux",
  fn() {
    const buffer = new ArrayBuffer(8 * 1024 * 1024);
    const advised = adviseHugePages(buffer);
    const bytes = new Uint8Array(buffer);
    for (let i = 0; i < bytes.length; i += 4096) bytes[i] = i % 251;
    assert.equal(bytes[4096 * 7], (4096 * 7) % 251);
    if (!advised) return; // a kernel without THP refuses the advice; the buffer still works
    const address = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buffer)));
    assert.ok(vmFlagsAt(address + 4096n)?.includes("hg"), "the mapping carries VM_HUGEPAGE");
  },
});

Deno.test("adviseHugePages: buffers under one huge page are left alone", () => {
  assert.equal(adviseHugePages(new ArrayBuffer(64 * 1024)), false);
});
