/**
 * Safe extraction of `.tar.xz` (tar-stream + @napi-rs/lzma), `.zip` (yauzl) and `.gz`
 * (`DecompressionStream`). Every entry path is checked: absolute paths, `..`, backslashes, symbolic
 * links (none of the real datasets has one), hard links to anything but a file extracted before them, and
 * device files or FIFOs are refused with an {@linkcode UnsafeArchiveError}. Permissions are not kept (files 0644). Each written file's
 * SHA-256 is recorded, so a manifest of the extracted tree comes for free.
 *
 * @module
 */
import { type EventEmitter, once } from "node:events";
import { dirname, join } from "node:path";
import type { Readable } from "node:stream";
import { xz } from "@napi-rs/lzma";
// @ts-types="npm:@types/tar-stream@3.1.5"
import tar from "tar-stream";
// @ts-types="npm:@types/yauzl@3.4.0"
import yauzl from "yauzl";
import { StreamingHasher } from "./hashing.ts";
import { WriteError, writeError } from "../util/fs.ts";

/** An archive entry that would escape the target or is not a plain file, folder or inside link. */
export class UnsafeArchiveError extends Error {
  override name = "UnsafeArchiveError";
}

/** A corrupt or truncated archive. */
export class ArchiveError extends Error {
  override name = "ArchiveError";
}

/** Extracted file path (relative, `/`-separated) → SHA-256 hex. */
export type ExtractManifest = Map<string, string>;

/**
 * Normalises an entry name to a safe relative path, or throws. Returns `""` for the archive root.
 *
 * @example
 * ```ts
 * safeEntryPath("./bottle/train/good/000.png", "x.tar.xz"); // "bottle/train/good/000.png"
 * ```
 */
export function safeEntryPath(name: string, archive: string): string {
  const refuse = (why: string) =>
    new UnsafeArchiveError(`refusing unsafe archive ${archive}: entry "${name}" ${why}`);
  if (name.includes("\0")) throw refuse("contains a NUL byte");
  if (name.includes("\\")) throw refuse("contains a backslash");
  if (name.startsWith("/") || /^[A-Za-z]:/.test(name)) throw refuse("is an absolute path");
  const parts = name.split("/").filter((p) => p !== "" && p !== ".");
  if (parts.includes("..")) throw refuse("contains '..'");
  return parts.join("/");
}

/** Tracks what was written so links and later entries can be checked. */
class ExtractTarget {
  readonly manifest: ExtractManifest = new Map();
  constructor(readonly root: string, readonly archive: string) {}

  #refuse(name: string, why: string): UnsafeArchiveError {
    return new UnsafeArchiveError(`refusing unsafe archive ${this.archive}: entry "${name}" ${why}`);
  }

  /** Safe relative path of an entry. */
  path(name: string): string {
    return safeEntryPath(name, this.archive);
  }

  async writeFile(name: string, chunks: AsyncIterable<Uint8Array>): Promise<void> {
    const rel = this.path(name);
    if (rel === "") throw this.#refuse(name, "is a file at the archive root path");
    const target = join(this.root, rel);
    await Deno.mkdir(dirname(target), { recursive: true });
    const out = await Deno.open(target, { write: true, create: true, truncate: true, mode: 0o644 });
    const hasher = new StreamingHasher();
    try {
      for await (const chunk of chunks) {
        hasher.update(chunk);
        let written = 0;
        while (written < chunk.length) written += await out.write(chunk.subarray(written));
      }
    } catch (error) {
      throw writeError(target, error);
    } finally {
      out.close();
    }
    this.manifest.set(rel, hasher.digest().sha256);
  }

  async mkdir(name: string): Promise<void> {
    const rel = this.path(name);
    await Deno.mkdir(join(this.root, rel), { recursive: true });
  }

  /**
   * Symbolic links are refused: no real dataset archive has one, and a chain of relative links
   * (`x → .`, `y → x/..`, …) can point outside the target however each link is checked on its own.
   */
  symlink(name: string, linkTarget: string): never {
    throw this.#refuse(
      name,
      `is a symbolic link (to ${linkTarget}); dataset archives must hold plain files only`,
    );
  }

  async hardlink(name: string, linkTarget: string): Promise<void> {
    const rel = this.path(name);
    let targetRel: string;
    try {
      targetRel = this.path(linkTarget);
    } catch {
      throw this.#refuse(name, `is a hard link to ${linkTarget}, outside the target folder`);
    }
    if (!this.manifest.has(targetRel)) {
      throw this.#refuse(name, `is a hard link to ${linkTarget}, which is not a file extracted before it`);
    }
    const target = join(this.root, rel);
    await Deno.mkdir(dirname(target), { recursive: true });
    await Deno.copyFile(join(this.root, targetRel), target);
    this.manifest.set(rel, this.manifest.get(targetRel)!);
  }
}

/** Feeds a web stream into a Node/streamx writable with backpressure; errors destroy the writable. */
function feed(
  input: ReadableStream<Uint8Array>,
  writable: { write(c: Uint8Array): boolean; end(): void; destroy(e: Error): void },
): void {
  (async () => {
    for await (const chunk of input) {
      if (!writable.write(chunk)) await once(writable as unknown as EventEmitter, "drain");
    }
    writable.end();
  })().catch((error) => writable.destroy(error instanceof Error ? error : new Error(String(error))));
}

/** Extracts a tar stream (already decompressed) into `root`. */
export async function extractTarStream(
  input: ReadableStream<Uint8Array>,
  root: string,
  archiveName: string,
): Promise<ExtractManifest> {
  const target = new ExtractTarget(root, archiveName);
  const extract = tar.extract();
  feed(input, extract);
  try {
    for await (const entry of extract) {
      const header = entry.header;
      switch (header.type) {
        case "file":
        case "contiguous-file":
          await target.writeFile(header.name, entry as AsyncIterable<Uint8Array>);
          break;
        case "directory":
          await target.mkdir(header.name);
          entry.resume();
          break;
        case "symlink":
          target.symlink(header.name, header.linkname ?? "");
          break;
        case "link":
          await target.hardlink(header.name, header.linkname ?? "");
          entry.resume();
          break;
        case "character-device":
        case "block-device":
        case "fifo":
          throw new UnsafeArchiveError(
            `refusing unsafe archive ${archiveName}: entry "${header.name}" is a ${header.type}`,
          );
        default:
          throw new UnsafeArchiveError(
            `refusing archive ${archiveName}: entry "${header.name}" has unsupported type ${header.type}`,
          );
      }
    }
  } catch (error) {
    extract.destroy();
    if (error instanceof UnsafeArchiveError) throw error;
    throw new ArchiveError(
      `cannot extract ${archiveName}: ${(error as Error).message} (the archive is corrupt or truncated; ` +
        `delete it and download again)`,
    );
  }
  return target.manifest;
}

/** Extracts a `.tar.xz` file into `root` (streaming; memory stays small for multi-GB archives). */
export async function extractTarXz(
  archivePath: string,
  root: string,
  archiveName = archivePath,
): Promise<ExtractManifest> {
  const file = await Deno.open(archivePath, { read: true });
  const decompressed = xz.decompressStream(file.readable) as ReadableStream<Uint8Array>;
  return await extractTarStream(decompressed, root, archiveName);
}

function openZip(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: true, decodeStrings: true, validateEntrySizes: true },
      (error, zip) => (error ? reject(error) : resolve(zip!)),
    )
  );
}

function openZipEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Readable> {
  return new Promise((resolve, reject) =>
    zip.openReadStream(entry, (error, stream) => (error ? reject(error) : resolve(stream!)))
  );
}

async function readAllText(stream: Readable): Promise<string> {
  const chunks: Uint8Array[] = [];
  for await (const chunk of stream) chunks.push(chunk as Uint8Array);
  return new TextDecoder().decode(await new Blob(chunks as BlobPart[]).arrayBuffer());
}

/** Extracts a `.zip` file into `root`. */
export async function extractZip(
  archivePath: string,
  root: string,
  archiveName = archivePath,
): Promise<ExtractManifest> {
  const target = new ExtractTarget(root, archiveName);
  let zip: yauzl.ZipFile;
  try {
    zip = await openZip(archivePath);
  } catch (error) {
    throw new ArchiveError(`cannot open ${archiveName}: ${(error as Error).message} (corrupt or not a zip)`);
  }
  const entries: AsyncGenerator<yauzl.Entry> = (async function* () {
    while (true) {
      const next = new Promise<yauzl.Entry | null>((resolve, reject) => {
        const onEntry = (e: yauzl.Entry) => {
          cleanup();
          resolve(e);
        };
        const onEnd = () => {
          cleanup();
          resolve(null);
        };
        const onError = (e: Error) => {
          cleanup();
          reject(e);
        };
        const cleanup = () => {
          zip.off("entry", onEntry);
          zip.off("end", onEnd);
          zip.off("error", onError);
        };
        zip.on("entry", onEntry);
        zip.on("end", onEnd);
        zip.on("error", onError);
      });
      zip.readEntry();
      const entry = await next;
      if (entry === null) return;
      yield entry;
    }
  })();
  try {
    for await (const entry of entries) {
      const name = entry.fileName;
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (mode === 0o020000 || mode === 0o060000 || mode === 0o010000 || mode === 0o140000) {
        throw new UnsafeArchiveError(
          `refusing unsafe archive ${archiveName}: entry "${name}" is a device file, FIFO or socket`,
        );
      }
      if (name.endsWith("/")) {
        await target.mkdir(name);
      } else if (mode === 0o120000) {
        target.symlink(name, await readAllText(await openZipEntry(zip, entry)));
      } else {
        const stream = await openZipEntry(zip, entry);
        await target.writeFile(name, stream as AsyncIterable<Uint8Array>);
      }
    }
  } catch (error) {
    zip.close();
    if (error instanceof UnsafeArchiveError) throw error;
    const message = (error as Error).message;
    if (/absolute path|invalid relative path|invalid characters/.test(message)) {
      throw new UnsafeArchiveError(`refusing unsafe archive ${archiveName}: ${message}`);
    }
    throw new ArchiveError(
      `cannot extract ${archiveName}: ${message} (corrupt or truncated; download again)`,
    );
  }
  return target.manifest;
}

/**
 * Decompresses a `.gz` file to `outputPath` (written as `outputPath.<rand>.tmp`, then renamed), returning
 * the decompressed size and SHA-256.
 */
export async function extractGzip(
  archivePath: string,
  outputPath: string,
): Promise<{ size: number; sha256: string }> {
  await Deno.mkdir(dirname(outputPath), { recursive: true });
  const tmp = `${outputPath}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  const input = await Deno.open(archivePath, { read: true });
  const out = await Deno.open(tmp, { write: true, create: true, truncate: true });
  const hasher = new StreamingHasher();
  try {
    for await (const chunk of input.readable.pipeThrough(new DecompressionStream("gzip"))) {
      hasher.update(chunk);
      try {
        let written = 0;
        while (written < chunk.length) written += await out.write(chunk.subarray(written));
      } catch (error) {
        throw writeError(outputPath, error);
      }
    }
    await out.sync();
  } catch (error) {
    out.close();
    await Deno.remove(tmp).catch(() => {});
    if (error instanceof WriteError) throw error;
    throw new ArchiveError(
      `cannot decompress ${archivePath}: ${(error as Error).message} (corrupt or truncated; delete it and ` +
        `download again)`,
    );
  }
  out.close();
  await Deno.rename(tmp, outputPath);
  const { size, sha256 } = hasher.digest();
  return { size, sha256 };
}
