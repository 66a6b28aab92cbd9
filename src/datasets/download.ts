/**
 * Verified, resumable downloads of one lock file entry.
 *
 * What anomalib and torchvision do not (docs/datasets.md §6): stream into `NAME.part` while hashing, resume
 * with HTTP Range (or restart cleanly when the server ignores it), reject HTML error pages by their magic
 * bytes before hashing, retry network errors with backoff, move to the next mirror on an HTTP error, a
 * size or hash mismatch, and rename to the final name only after the hash matched. Present files are
 * re-verified (cheaply, through the digest sidecar). A lock file around each target keeps two processes
 * from writing it at once.
 *
 * @module
 */
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { digestsOfPresentFile, type FileDigests, StreamingHasher, writeDigestSidecar } from "./hashing.ts";
import { withFileLock } from "../util/file_lock.ts";
import { writeError } from "../util/fs.ts";
import type { AcceptedCopy, LockFile } from "./lock.ts";
import { formatBytes, type ProgressSink, SilentProgress } from "./progress.ts";

/** Options of {@linkcode downloadVerified}. */
export interface DownloadOptions {
  /** Base URLs (http, https, file) or local folders tried first; the file name is appended. */
  mirrors?: string[];
  /** Use only local mirrors and files already present. */
  offline?: boolean;
  /** Attempts per URL after a network error (cut connection, stall). Default 3. */
  retries?: number;
  /** First backoff delay; doubles per retry. Default 1000 ms. */
  backoffMs?: number;
  /** A transfer that receives no byte for this long is aborted and retried. Default 60 s. */
  stallTimeoutMs?: number;
  /** How long to wait for another process holding the target's lock. Default 6 h. */
  lockTimeoutMs?: number;
  /** A lock not refreshed for this long is taken over. Default 60 s. */
  lockStaleMs?: number;
  /** Where progress goes. Default: silent. */
  progress?: ProgressSink;
  /** Extra notes (retries, waits), one line each. Default: none. */
  log?: (line: string) => void;
  /** Hash a present file again even when its digest sidecar matches its size and mtime. */
  rehash?: boolean;
}

/** A file that is on disk under its final name and matched the lock. */
export interface VerifiedFile {
  name: string;
  path: string;
  size: number;
  sha256: string;
  md5: string;
  /** URL or path it came from, or `present` when it was already there. */
  source: string;
  /** Which accepted copy it matched (`source` of the lock's `accept` entry). */
  matched: string;
}

/** Every mirror failed; the message lists each URL, why, and what to do. */
export class DownloadError extends Error {
  override name = "DownloadError";
  /** URL or path → reason. */
  readonly failures: { source: string; reason: string }[];

  constructor(message: string, failures: { source: string; reason: string }[]) {
    super(message);
    this.failures = failures;
  }
}

/** Leading bytes of each archive type (docs/datasets.md §6). */
export const MAGIC_BYTES: Record<LockFile["archive"], Uint8Array> = {
  "tar.xz": new Uint8Array([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]),
  zip: new Uint8Array([0x50, 0x4b, 0x03, 0x04]),
  gz: new Uint8Array([0x1f, 0x8b]),
};

function hexBytes(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0").toUpperCase()).join(" ");
}

/** `null` when `head` starts with the archive's magic bytes, else a reason naming what was found. */
export function magicMismatch(archive: LockFile["archive"], head: Uint8Array): string | null {
  const magic = MAGIC_BYTES[archive];
  const ok = head.length >= magic.length && magic.every((b, i) => head[i] === b);
  if (ok) return null;
  const text = new TextDecoder().decode(head.subarray(0, 64)).trimStart().toLowerCase();
  const looksHtml = text.startsWith("<!doctype") || text.startsWith("<html") || text.startsWith("<?xml") ||
    text.startsWith("<");
  return `content is not a ${archive} file: first bytes ${hexBytes(head.subarray(0, 8))}` +
    (looksHtml ? " (an HTML/XML page, e.g. an error or login page)" : "") +
    `, expected ${hexBytes(magic)}`;
}

/** The accepted copy that `digests` matches, or `null`. Every field a copy gives must match. */
export function matchAcceptedCopy(accept: AcceptedCopy[], digests: FileDigests): AcceptedCopy | null {
  return accept.find((copy) =>
    (copy.size === null || copy.size === digests.size) &&
    (copy.sha256 === undefined || copy.sha256 === digests.sha256) &&
    (copy.md5 === undefined || copy.md5 === digests.md5)
  ) ?? null;
}

function describeExpected(file: LockFile): string {
  return file.accept.map((c) =>
    [c.sha256 ? `sha256 ${c.sha256}` : "", c.md5 ? `md5 ${c.md5}` : "", c.size ? `${c.size} bytes` : ""]
      .filter(Boolean).join(", ") + ` [${c.source}]`
  ).join(" or ");
}

function acceptedSizes(file: LockFile): Set<number> | null {
  if (file.accept.some((c) => c.size === null)) return null;
  return new Set(file.accept.map((c) => c.size as number));
}

/** Hash of the decompressed bytes of a gzip file (for `content` matches of recompressed copies). */
async function gunzipSha256(path: string): Promise<FileDigests | null> {
  try {
    const file = await Deno.open(path, { read: true });
    const hasher = new StreamingHasher();
    for await (const chunk of file.readable.pipeThrough(new DecompressionStream("gzip"))) {
      hasher.update(chunk);
    }
    return hasher.digest();
  } catch {
    return null;
  }
}

/** Checks a complete file against the lock; returns the matched copy's source or a reason. */
async function verifyAgainstLock(
  file: LockFile,
  path: string,
  digests: FileDigests,
): Promise<{ ok: true; matched: string } | { ok: false; reason: string }> {
  const copy = matchAcceptedCopy(file.accept, digests);
  if (copy) return { ok: true, matched: copy.source };
  if (file.content && file.archive === "gz") {
    // A copy recompressed by a packager (e.g. Debian) holds the same data: accept it when the
    // decompressed bytes match the pinned content hash.
    const content = await gunzipSha256(path);
    if (content && content.sha256 === file.content.sha256 && content.size === file.content.size) {
      return { ok: true, matched: "recompressed copy (decompressed content sha256 matches)" };
    }
  }
  return {
    ok: false,
    reason: `got ${digests.size} bytes, sha256 ${digests.sha256}, md5 ${digests.md5}; expected ${
      describeExpected(file)
    }`,
  };
}

/** One place to get the file from. */
interface Source {
  kind: "http" | "local";
  /** URL for http, path for local. */
  location: string;
}

function joinUrl(base: string, name: string): string {
  return base.endsWith("/") ? `${base}${name}` : `${base}/${name}`;
}

/** The ordered sources: the user's mirrors (base + name) first, then the lock's URLs. */
export function candidateSources(file: LockFile, options: DownloadOptions = {}): Source[] {
  const sources: Source[] = [];
  for (const mirror of options.mirrors ?? []) {
    if (/^https?:\/\//i.test(mirror)) sources.push({ kind: "http", location: joinUrl(mirror, file.name) });
    else if (/^file:\/\//i.test(mirror)) {
      sources.push({ kind: "local", location: join(fileURLToPath(mirror), file.name) });
    } else sources.push({ kind: "local", location: join(mirror, file.name) });
  }
  for (const url of file.mirrors) {
    if (/^file:\/\//i.test(url)) sources.push({ kind: "local", location: fileURLToPath(url) });
    else sources.push({ kind: "http", location: url });
  }
  return sources;
}

/** A failure that should make us retry the same URL (network), or move on (everything else). */
class SourceFailure extends Error {
  constructor(message: string, readonly retryable: boolean) {
    super(message);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function statSize(path: string): Promise<number> {
  try {
    return (await Deno.stat(path)).size;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return 0;
    throw error;
  }
}

async function readHead(path: string, n: number): Promise<Uint8Array> {
  const file = await Deno.open(path, { read: true });
  try {
    const buffer = new Uint8Array(n);
    let got = 0;
    while (got < n) {
      const read = await file.read(buffer.subarray(got));
      if (read === null) break;
      got += read;
    }
    return buffer.subarray(0, got);
  } finally {
    file.close();
  }
}

/** Writes all of `chunk` to `file` (open on `path`); a failure (a full disk) names the path. */
async function writeAll(file: Deno.FsFile, chunk: Uint8Array, path: string): Promise<void> {
  try {
    let written = 0;
    while (written < chunk.length) written += await file.write(chunk.subarray(written));
  } catch (error) {
    throw writeError(path, error);
  }
}

/**
 * Streams `body` into `file`, hashing as it goes, checking the magic bytes on the first bytes of the
 * file and aborting when nothing arrives for `stallMs`.
 */
async function pumpBody(
  body: ReadableStream<Uint8Array>,
  out: Deno.FsFile,
  hasher: StreamingHasher,
  opts: {
    /** The file `out` writes (named in errors). */
    path: string;
    archive: LockFile["archive"];
    alreadyOnDisk: number;
    stallMs: number;
    abort: AbortController;
    progress: ProgressSink;
  },
): Promise<void> {
  const magicLength = MAGIC_BYTES[opts.archive].length;
  let head = new Uint8Array(0);
  let headChecked = opts.alreadyOnDisk >= magicLength;
  // A watchdog instead of a timer reset per chunk (cheaper at hundreds of MB/s).
  let stalled = false;
  let lastData = performance.now();
  const watchdog = setInterval(() => {
    if (performance.now() - lastData > opts.stallMs) {
      stalled = true;
      opts.abort.abort();
    }
  }, Math.max(10, Math.floor(opts.stallMs / 5)));
  // Coalesce the network's small chunks into writes of up to 1 MiB.
  const buffer = new Uint8Array(1 << 20);
  let buffered = 0;
  const flush = async () => {
    if (buffered > 0) await writeAll(out, buffer.subarray(0, buffered), opts.path);
    buffered = 0;
  };
  const reader = body.getReader();
  try {
    while (true) {
      let result: ReadableStreamReadResult<Uint8Array>;
      try {
        result = await reader.read();
      } catch (error) {
        if (stalled) throw new SourceFailure(`stalled: no data for ${opts.stallMs} ms`, true);
        throw new SourceFailure(`connection failed mid-transfer: ${(error as Error).message}`, true);
      }
      if (result.done) break;
      lastData = performance.now();
      const chunk = result.value;
      if (!headChecked) {
        const merged = new Uint8Array(head.length + chunk.length);
        merged.set(head);
        merged.set(chunk, head.length);
        head = merged;
        if (head.length >= magicLength) {
          const mismatch = magicMismatch(opts.archive, head);
          if (mismatch) throw new SourceFailure(mismatch, false);
          headChecked = true;
        }
      }
      hasher.update(chunk);
      if (buffered + chunk.length > buffer.length) await flush();
      if (chunk.length >= buffer.length) await writeAll(out, chunk, opts.path);
      else {
        buffer.set(chunk, buffered);
        buffered += chunk.length;
      }
      opts.progress.update(hasher.size);
    }
    if (!headChecked) {
      const mismatch = magicMismatch(opts.archive, head);
      if (mismatch) throw new SourceFailure(mismatch, false);
    }
  } finally {
    clearInterval(watchdog);
    reader.releaseLock();
    // What arrived before a cut connection stays in the .part, so the resume starts after it.
    await flush();
  }
}

/** Downloads one http source into `part`, resuming when possible. Throws SourceFailure. */
async function fetchIntoPart(
  file: LockFile,
  url: string,
  part: string,
  options: Required<Pick<DownloadOptions, "stallTimeoutMs">> & { progress: ProgressSink },
): Promise<FileDigests> {
  let onDisk = await statSize(part);
  if (onDisk > 0) {
    // A .part left by an earlier run: resume only if it starts like the right kind of file.
    if (magicMismatch(file.archive, await readHead(part, 8)) !== null) {
      await Deno.remove(part);
      onDisk = 0;
    }
  }
  const abort = new AbortController();
  const headers: Record<string, string> = {};
  if (onDisk > 0) headers.Range = `bytes=${onDisk}-`;
  const connectTimer = setTimeout(() => abort.abort(), options.stallTimeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: abort.signal, redirect: "follow" });
  } catch (error) {
    if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
      // Not a network fault: retrying or trying other mirrors cannot help.
      throw new Error(
        `cannot fetch ${url}: this process may not use the network (${
          (error as Error).message.split("\n")[0]
        }); ` +
          `run the command through its deno task (which grants --allow-net), or pass --offline with a local --mirror`,
      );
    }
    throw new SourceFailure(
      abort.signal.aborted
        ? `no response within ${options.stallTimeoutMs} ms`
        : `network error: ${(error as Error).message}`,
      true,
    );
  } finally {
    clearTimeout(connectTimer);
  }
  if (response.status === 416) {
    // Our .part is at least as long as the file: start over.
    await response.body?.cancel();
    await Deno.remove(part).catch(() => {});
    throw new SourceFailure("server refused the resume range (416); restarting", true);
  }
  if (response.status !== 200 && response.status !== 206) {
    await response.body?.cancel();
    throw new SourceFailure(`HTTP ${response.status} ${response.statusText}`.trim(), false);
  }
  const hasher = new StreamingHasher();
  let resumed = false;
  let total: number | null = null;
  if (response.status === 206 && onDisk > 0) {
    const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers.get("content-range") ?? "");
    if (match && Number(match[1]) === onDisk) {
      resumed = true;
      total = match[3] === "*" ? null : Number(match[3]);
    } else {
      await response.body?.cancel();
      await Deno.remove(part).catch(() => {});
      throw new SourceFailure(
        `server answered a different range (${match?.[0] ?? "none"}); restarting`,
        true,
      );
    }
  } else {
    const length = response.headers.get("content-length");
    total = length !== null ? Number(length) : null;
  }
  const sizes = acceptedSizes(file);
  if (total !== null && sizes !== null && !sizes.has(total)) {
    // Say what it is when we can tell (an HTML page is the usual culprit), not only that the size is off.
    let reason = `server announces ${total} bytes, the lock expects ${[...sizes].join(" or ")}`;
    if (!resumed && response.body) {
      const reader = response.body.getReader();
      const first = await reader.read().catch(() => ({ done: true, value: undefined }));
      const mismatch = first.value ? magicMismatch(file.archive, first.value) : null;
      if (mismatch) reason = `${mismatch}; ${reason}`;
      await reader.cancel().catch(() => {});
    } else await response.body?.cancel();
    throw new SourceFailure(reason, false);
  }
  if (resumed) {
    const existing = await Deno.open(part, { read: true });
    for await (const chunk of existing.readable) hasher.update(chunk);
  } else {
    onDisk = 0;
  }
  if (!response.body) throw new SourceFailure("empty response body", true);
  const out = await Deno.open(part, { write: true, create: true, append: resumed, truncate: !resumed });
  options.progress.start(file.name, total, onDisk);
  try {
    await pumpBody(response.body, out, hasher, {
      path: part,
      archive: file.archive,
      alreadyOnDisk: onDisk,
      stallMs: options.stallTimeoutMs,
      abort,
      progress: options.progress,
    });
    await out.sync();
  } catch (error) {
    await response.body.cancel().catch(() => {});
    if (error instanceof SourceFailure && !error.retryable) {
      out.close();
      await Deno.remove(part).catch(() => {});
      throw error;
    }
    out.close();
    throw error;
  }
  out.close();
  const digests = hasher.digest();
  if (total !== null && digests.size < total) {
    // The connection ended cleanly but early (no Content-Length check by the runtime): resume.
    throw new SourceFailure(`connection closed after ${digests.size} of ${total} bytes`, true);
  }
  return digests;
}

/** Copies a local source into `part`, hashing as it goes. Throws SourceFailure. */
async function copyIntoPart(
  file: LockFile,
  path: string,
  part: string,
  progress: ProgressSink,
): Promise<FileDigests> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new SourceFailure("not found", false);
    throw new SourceFailure(`cannot read: ${(error as Error).message}`, false);
  }
  if (!stat.isFile) throw new SourceFailure("not a regular file", false);
  const mismatch = magicMismatch(file.archive, await readHead(path, 8));
  if (mismatch) throw new SourceFailure(mismatch, false);
  const hasher = new StreamingHasher();
  const input = await Deno.open(path, { read: true });
  const out = await Deno.open(part, { write: true, create: true, truncate: true });
  progress.start(file.name, stat.size, 0);
  try {
    for await (const chunk of input.readable) {
      hasher.update(chunk);
      await writeAll(out, chunk, part);
      progress.update(hasher.size);
    }
    await out.sync();
  } finally {
    out.close();
  }
  return hasher.digest();
}

function failureMessage(
  file: LockFile,
  finalPath: string,
  failures: { source: string; reason: string }[],
): string {
  const lines = [`could not get ${file.name}: every source failed`];
  if (failures.length === 0) {
    lines.push("  (no source to try: the lock lists no URL and no --mirror was given)");
  }
  for (const f of failures) lines.push(`  - ${f.source}: ${f.reason}`);
  lines.push(
    `To fix: pass --mirror BASE (a URL or folder that holds ${file.name}; repeatable), or put the file at ` +
      `${finalPath} yourself (expected ${describeExpected(file)}) and run again.`,
  );
  return lines.join("\n");
}

/**
 * Makes sure `dir/<file.name>` exists and matches the lock: re-verifies a present file, else tries each
 * source in turn. Throws {@linkcode DownloadError} listing every source and why it failed.
 *
 * @example
 * ```ts
 * const lock = await loadLock();
 * const verified = await downloadVerified(lock.datasets.mnist.files[0], "data/downloads/mnist", {
 *   mirrors: ["/mnt/mirror/mnist"],
 * });
 * ```
 */
export function downloadVerified(
  file: LockFile,
  dir: string,
  options: DownloadOptions = {},
): Promise<VerifiedFile> {
  const finalPath = join(dir, file.name);
  return withFileLock(
    `${finalPath}.lock`,
    () => downloadLocked(file, dir, finalPath, options),
    {
      timeoutMs: options.lockTimeoutMs,
      staleMs: options.lockStaleMs,
      onWait: (lock) => options.log?.(`${file.name}: waiting for another process (lock ${lock})`),
    },
  );
}

async function downloadLocked(
  file: LockFile,
  dir: string,
  finalPath: string,
  options: DownloadOptions,
): Promise<VerifiedFile> {
  const { retries = 3, backoffMs = 1000, stallTimeoutMs = 60_000, offline = false } = options;
  const progress = options.progress ?? new SilentProgress();
  const log = options.log ?? (() => {});
  await Deno.mkdir(dir, { recursive: true });

  const present = await digestsOfPresentFile(finalPath, { rehash: options.rehash });
  if (present) {
    const verdict = await verifyAgainstLock(file, finalPath, present);
    if (verdict.ok) {
      return {
        name: file.name,
        path: finalPath,
        ...pick(present),
        source: "present",
        matched: verdict.matched,
      };
    }
    // Keep the bad file for inspection, out of the way of the final name.
    await Deno.rename(finalPath, `${finalPath}.bad`);
    await Deno.remove(`${finalPath}.digest.json`).catch(() => {});
    log(`${file.name}: the file present did not verify (${verdict.reason}); moved to ${finalPath}.bad`);
  }

  const part = `${finalPath}.part`;
  const failures: { source: string; reason: string }[] = [];
  for (const source of candidateSources(file, options)) {
    if (source.kind === "http" && offline) {
      failures.push({ source: source.location, reason: "skipped (--offline)" });
      continue;
    }
    const started = performance.now();
    let attempt = 0;
    while (true) {
      try {
        const digests = source.kind === "http"
          ? await fetchIntoPart(file, source.location, part, { stallTimeoutMs, progress })
          : await copyIntoPart(file, source.location, part, progress);
        const verdict = await verifyAgainstLock(file, part, digests);
        if (!verdict.ok) {
          await Deno.remove(part).catch(() => {});
          throw new SourceFailure(`hash mismatch: ${verdict.reason}`, false);
        }
        await Deno.rename(part, finalPath);
        await writeDigestSidecar(finalPath, digests, source.location);
        const seconds = (performance.now() - started) / 1000;
        progress.end(
          `${file.name}: ${formatBytes(digests.size)} in ${seconds.toFixed(1)} s (${
            formatBytes(digests.size / Math.max(seconds, 1e-3))
          }/s) from ${source.location}, verified (${verdict.matched})`,
        );
        return {
          name: file.name,
          path: finalPath,
          ...pick(digests),
          source: source.location,
          matched: verdict.matched,
        };
      } catch (error) {
        if (!(error instanceof SourceFailure)) throw error;
        attempt++;
        if (error.retryable && attempt <= retries) {
          const delay = backoffMs * 2 ** (attempt - 1);
          log(
            `${file.name}: ${error.message} from ${source.location}; retry ${attempt}/${retries} in ${delay} ms`,
          );
          await sleep(delay);
          continue;
        }
        if (error.retryable) await Deno.remove(part).catch(() => {});
        failures.push({
          source: source.location,
          reason: error.retryable ? `${error.message} (gave up after ${retries} retries)` : error.message,
        });
        progress.end(`${file.name}: failed from ${source.location}: ${error.message}`);
        break;
      }
    }
  }
  throw new DownloadError(failureMessage(file, finalPath, failures), failures);
}

function pick(d: FileDigests): FileDigests {
  return { size: d.size, sha256: d.sha256, md5: d.md5 };
}
