/**
 * Atomic file writes: write `name.<random>.tmp` beside the target, fsync, then rename over the target, so
 * a reader never sees a half-written file and a crash never leaves one under the final name. A failed
 * write (a full disk) is reported with the target's path.
 *
 * @module
 */
import { dirname } from "node:path";
import { writeError } from "./fs.ts";

/**
 * Writes bytes or text to `path` atomically, creating the parent folder if needed.
 *
 * @example
 * ```ts
 * await writeFileAtomic("reports/runs/x/result.json", JSON.stringify(result, null, 2));
 * ```
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true });
  const tmp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  let file: Deno.FsFile;
  try {
    file = await Deno.open(tmp, { write: true, create: true, truncate: true });
  } catch (error) {
    throw writeError(path, error);
  }
  try {
    let written = 0;
    while (written < bytes.length) written += await file.write(bytes.subarray(written));
    await file.sync();
  } catch (error) {
    file.close();
    await Deno.remove(tmp).catch(() => {});
    throw writeError(path, error);
  }
  file.close();
  try {
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw writeError(path, error);
  }
}

/** Writes a value as pretty JSON (2-space indent, trailing newline) atomically. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(value, null, 2) + "\n");
}
