/**
 * Small file-system helpers shared by the data layer, the trainer and the CLI.
 *
 * @module
 */

/** Whether `path` exists (file, folder or link); other errors than NotFound propagate. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** Writing a file failed; the message names the file (and says when the disk is full). */
export class WriteError extends Error {
  override name = "WriteError";
}

/**
 * The error to throw when writing `path` failed: it names the path, and says so plainly when the disk is
 * full (the system's message alone names neither).
 *
 * @example
 * ```ts
 * try { await file.write(bytes); } catch (error) { throw writeError("reports/runs/x/result.json", error); }
 * ```
 */
export function writeError(path: string, error: unknown): WriteError {
  if (error instanceof WriteError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/os error 28|ENOSPC|No space left/i.test(message)) {
    return new WriteError(
      `cannot write ${path}: the disk is full (${message}); free some space or write somewhere else ` +
        `(--out, --data-dir), then run again`,
    );
  }
  return new WriteError(message.includes(path) ? message : `cannot write ${path}: ${message}`);
}
