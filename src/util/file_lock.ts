/**
 * A lock file around a shared target (a download, an extraction, a reproduce cell), so that two processes
 * working in the same folder never write the same files at once.
 *
 * The holder keeps the lock file open with an exclusive advisory lock (`flock`) and writes its PID, host
 * name and start time into it. The operating system releases that lock the moment the process ends,
 * however it ends (Ctrl-C, a crash, `kill -9`), so a waiter that can take the advisory lock knows the
 * holder is gone and takes the lock over at once. Where advisory locks do not reach (some network file
 * systems), a holder that stops refreshing the file's mtime for `staleMs` is presumed dead.
 *
 * @module
 */
import { dirname } from "node:path";

/** Options of {@linkcode acquireFileLock}, {@linkcode tryFileLock} and {@linkcode withFileLock}. */
export interface FileLockOptions {
  /** How long to wait for another holder before giving up. Default 6 h (a large download). */
  timeoutMs?: number;
  /** A lock not refreshed for this long is stale. Default 60 s. */
  staleMs?: number;
  /** Poll interval while waiting. Default 200 ms. */
  pollMs?: number;
  /** Called once when the lock is held by someone else and we start waiting. */
  onWait?: (lockPath: string, holder: LockHolder | null) => void;
}

/** Who holds a lock, as recorded in the lock file. */
export interface LockHolder {
  pid: number;
  host: string;
  acquiredAt: string;
}

/** A held lock. */
export interface HeldLock {
  readonly path: string;
  /** Stops refreshing, removes the lock file and releases the advisory lock. */
  release(): Promise<void>;
}

function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return "unknown-host"; // no --allow-sys: the record is informative only
  }
}

/** This process as a lock holder. */
export function currentHolder(): LockHolder {
  return { pid: Deno.pid, host: hostName(), acquiredAt: new Date().toISOString() };
}

/** The holder recorded in a lock file, or null when it is absent or unreadable (an older format). */
export async function readLockHolder(lockPath: string): Promise<LockHolder | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(lockPath));
    if (typeof value?.pid === "number" && typeof value?.host === "string") return value as LockHolder;
  } catch {
    // missing, being replaced, or an older plain-text lock
  }
  return null;
}

/** Whether the advisory lock could be taken (false where the file system does not support it). */
async function tryAdvisoryLock(file: Deno.FsFile): Promise<boolean> {
  try {
    return await file.tryLock(true);
  } catch {
    return false;
  }
}

/** Writes our holder record into the (locked) file. */
async function recordHolder(file: Deno.FsFile): Promise<void> {
  const bytes = new TextEncoder().encode(JSON.stringify(currentHolder()) + "\n");
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start);
  let written = 0;
  while (written < bytes.length) written += await file.write(bytes.subarray(written));
}

/** Whether `path` still names the file `file` has open (it was not removed or replaced meanwhile). */
async function stillAt(path: string, file: Deno.FsFile): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([Deno.stat(path), file.stat()]);
    return a.ino === b.ino && a.dev === b.dev;
  } catch {
    return false;
  }
}

/**
 * One attempt: creates the lock, or takes over one whose holder is gone (its advisory lock is free, or
 * its mtime is older than `staleMs`). Returns the open, locked file, or null when a live holder has it.
 */
async function attempt(lockPath: string, staleMs: number): Promise<Deno.FsFile | null> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(lockPath, { read: true, write: true, createNew: true });
  } catch (error) {
    if (!(error instanceof Deno.errors.AlreadyExists)) throw error;
    try {
      file = await Deno.open(lockPath, { read: true, write: true });
    } catch (openError) {
      if (openError instanceof Deno.errors.NotFound) return null; // released meanwhile: try again
      throw openError;
    }
    if (!(await tryAdvisoryLock(file))) {
      const stat = await file.stat();
      file.close();
      if (Date.now() - (stat.mtime?.getTime() ?? 0) > staleMs) await Deno.remove(lockPath).catch(() => {});
      return null;
    }
    // The previous holder is gone (the system released its lock). Make sure the file is still the lock.
    if (!(await stillAt(lockPath, file))) {
      file.close();
      return null;
    }
    await recordHolder(file);
    return file;
  }
  if (!(await tryAdvisoryLock(file))) {
    // Another process opened our new file and locked it first; let it have it.
    file.close();
    return null;
  }
  await recordHolder(file);
  return file;
}

function held(lockPath: string, file: Deno.FsFile, staleMs: number): HeldLock {
  const refresh = setInterval(() => {
    const now = new Date();
    Deno.utime(lockPath, now, now).catch(() => {});
  }, Math.max(50, Math.floor(staleMs / 4)));
  let released = false;
  return {
    path: lockPath,
    async release() {
      if (released) return;
      released = true;
      clearInterval(refresh);
      await Deno.remove(lockPath).catch(() => {});
      file.close(); // also releases the advisory lock
    },
  };
}

/**
 * Takes `lockPath` if no live process holds it, without waiting; null when another live holder has it.
 *
 * @example
 * ```ts
 * const lock = await tryFileLock("reports/runs/x/cell.lock");
 * if (lock) try { ... } finally { await lock.release(); }
 * ```
 */
export async function tryFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldLock | null> {
  const { staleMs = 60_000 } = options;
  await Deno.mkdir(dirname(lockPath), { recursive: true });
  for (let i = 0; i < 3; i++) {
    const file = await attempt(lockPath, staleMs);
    if (file) return held(lockPath, file, staleMs);
    if (await readLockHolder(lockPath).then((h) => h !== null).catch(() => false)) return null;
  }
  return null;
}

/**
 * Waits for `lockPath` (while another live holder has it) and returns it held.
 *
 * @example
 * ```ts
 * const lock = await acquireFileLock("data/.mnist.lock");
 * try { ... } finally { await lock.release(); }
 * ```
 */
export async function acquireFileLock(lockPath: string, options: FileLockOptions = {}): Promise<HeldLock> {
  const { timeoutMs = 6 * 3600_000, staleMs = 60_000, pollMs = 200, onWait } = options;
  await Deno.mkdir(dirname(lockPath), { recursive: true });
  const started = Date.now();
  let waited = false;
  while (true) {
    const file = await attempt(lockPath, staleMs);
    if (file) return held(lockPath, file, staleMs);
    if (!waited) {
      waited = true;
      onWait?.(lockPath, await readLockHolder(lockPath));
    }
    if (Date.now() - started > timeoutMs) {
      const holder = await readLockHolder(lockPath);
      throw new Error(
        `timed out after ${Math.round(timeoutMs / 1000)} s waiting for lock ${lockPath} (held by ${
          holder ? `process ${holder.pid} on ${holder.host}` : "another process"
        }; if it is not running, delete the lock file)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

/**
 * Runs `fn` while holding `lockPath`, waiting while another live holder has it.
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
  const lock = await acquireFileLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await lock.release();
  }
}
