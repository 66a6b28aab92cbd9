/**
 * Asks Linux to back a big, not yet touched buffer with transparent huge pages (`madvise(MADV_HUGEPAGE)`
 * through FFI). Filling hundreds of MiB of fresh memory with 4 KiB pages costs one page fault per 4 KiB;
 * on the project's 2-core VM the faults of `evaluate`'s maps took longer than reading them. The usual
 * switch, `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, took effect in only about half of the processes that
 * `deno task` started here (glibc 2.36 compares the `/sys/kernel/mm/transparent_hugepage/enabled` text
 * without terminating it, so the outcome depends on stack contents), hence this explicit call.
 *
 * It is only advice: without Linux, libc, or `--allow-ffi`, or when THP is off, nothing happens and the
 * buffer works the same, with small pages.
 *
 * @module
 */

/** `MADV_HUGEPAGE` from `<sys/mman.h>` (Linux). */
const MADV_HUGEPAGE = 14;
const PAGE = 4096;

type Madvise = (pointer: Deno.PointerValue, length: bigint, advice: number) => number;

let madvise: Madvise | null | undefined;

function loadMadvise(): Madvise | null {
  if (Deno.build.os !== "linux") return null;
  try {
    if (Deno.permissions.querySync({ name: "ffi" }).state !== "granted") return null;
    const lib = Deno.dlopen("libc.so.6", {
      madvise: { parameters: ["pointer", "usize", "i32"], result: "i32" },
    });
    return (pointer, length, advice) => lib.symbols.madvise(pointer, length, advice);
  } catch {
    return null;
  }
}

/**
 * Advises huge pages for the 4 KiB-aligned part of `buffer`; call it before the buffer is written.
 * Returns true when the advice was given (the kernel may still use small pages).
 *
 * @example
 * ```ts
 * const slab = new ArrayBuffer(64 * 1024 * 1024);
 * adviseHugePages(slab); // then fill it
 * ```
 */
export function adviseHugePages(buffer: ArrayBuffer | SharedArrayBuffer): boolean {
  if (buffer.byteLength < 2 * 1024 * 1024) return false;
  if (madvise === undefined) madvise = loadMadvise();
  if (madvise === null) return false;
  const start = Deno.UnsafePointer.of(buffer as ArrayBuffer); // the same for a SharedArrayBuffer
  if (start === null) return false;
  const address = Deno.UnsafePointer.value(start);
  const skip = (PAGE - Number(BigInt(address) % BigInt(PAGE))) % PAGE;
  const length = buffer.byteLength - skip;
  if (length < PAGE) return false;
  const aligned = Deno.UnsafePointer.offset(start as Deno.PointerObject, skip);
  return madvise(aligned, BigInt(length - (length % PAGE)), MADV_HUGEPAGE) === 0;
}
