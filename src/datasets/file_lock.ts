/**
 * A lock file around a download or extraction target, so that two processes working on the same data
 * dir never write the same file at once. The holder refreshes the lock's mtime while it works; a lock
 * whose mtime is older than `staleMs` belongs to a dead process and is taken over.
 *
 * @module
 */
import { dirname } from "node:path";

/** Options of {@linkcode withFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another holder before giving up. Default 6 h (a large download). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is stale. Default 60 s. */
  staleMs?: number;
  /** Poll interval while waiting. Default 200 ms. */
  pollMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (lockPath: string) => void;
}

async function tryCreate(lockPath: string): Promise<boolean> {
  try {
    const file = await Deno.open(lockPath, { write: true, createNew: true });
    await file.write(new TextEncoder().encode(`${Deno.pid} ${new Date().toISOString()}\n`));
    file.close();
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.AlreadyExists) return false;
    throw error;
  }
}

/**
 * Runs `fn` while holding `lockPath` (created exclusively). Waits while another live holder has it.
 *
 * @example
 * ```ts
 * await withFileLock("data/downloads/mnist/x.gz.lock", async () => { ... });
 * ```
 */
export async function withFileLock<T>(
  lockPath: string,
  fn: () => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const { timeoutMs = 6 * 3600_000, staleMs = 60_000, pollMs = 200, onWait } = options;
  await Deno.mkdir(dirname(lockPath), { recursive: true });
  const started = Date.now();
  let waited = false;
  while (!(await tryCreate(lockPath))) {
    if (!waited) {
      waited = true;
      onWait?.(lockPath);
    }
    try {
      const stat = await Deno.stat(lockPath);
      if (Date.now() - (stat.mtime?.getTime() ?? 0) > staleMs) {
        // The holder stopped refreshing: it died. Remove and race for it again.
        await Deno.remove(lockPath).catch(() => {});
        continue;
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      continue;
    }
    if (Date.now() - started > timeoutMs) {
      throw new Error(
        `timed out after ${
          Math.round(timeoutMs / 1000)
        } s waiting for lock ${lockPath} (another download is ` +
          `running; if none is, delete the lock file)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  const refresh = setInterval(() => {
    const now = new Date();
    Deno.utime(lockPath, now, now).catch(() => {});
  }, Math.max(50, Math.floor(staleMs / 4)));
  try {
    return await fn();
  } finally {
    clearInterval(refresh);
    await Deno.remove(lockPath).catch(() => {});
  }
}
