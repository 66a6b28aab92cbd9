/**
 * Streaming SHA-256 + MD5 (node:crypto streams both; Web Crypto has no MD5 and does not stream), whole
 * file hashing, and the digest sidecar that makes re-verifying a present file cheap: `NAME.digest.json`
 * records size, mtime and digests; when size and mtime still match, the file is not read again.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import { writeJsonAtomic } from "../util/atomic_write.ts";

/** SHA-256 and MD5 of some bytes, hex. */
export interface FileDigests {
  size: number;
  sha256: string;
  md5: string;
}

/** Hashes bytes as they stream past with SHA-256 and MD5 at once. */
export class StreamingHasher {
  #sha256: Hash = createHash("sha256");
  #md5: Hash = createHash("md5");
  #size = 0;

  /** Adds a chunk. */
  update(chunk: Uint8Array): void {
    this.#sha256.update(chunk);
    this.#md5.update(chunk);
    this.#size += chunk.length;
  }

  /** Bytes seen so far. */
  get size(): number {
    return this.#size;
  }

  /** Finishes both hashes. */
  digest(): FileDigests {
    return { size: this.#size, sha256: this.#sha256.digest("hex"), md5: this.#md5.digest("hex") };
  }
}

/**
 * Hashes a whole file (or its first `limit` bytes) in streaming fashion.
 *
 * @example
 * ```ts
 * const { sha256 } = await hashFile("data/downloads/mnist/t10k-labels-idx1-ubyte.gz");
 * ```
 */
export async function hashFile(path: string, hasher = new StreamingHasher()): Promise<FileDigests> {
  const file = await Deno.open(path, { read: true });
  for await (const chunk of file.readable) hasher.update(chunk);
  return hasher.digest();
}

/** SHA-256 hex of bytes or a string. */
export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}

interface DigestSidecar extends FileDigests {
  mtimeMs: number;
  source?: string;
}

/** Path of the digest sidecar of `path`. */
export function sidecarPath(path: string): string {
  return `${path}.digest.json`;
}

/** Writes the sidecar for `path` after its digests were computed from its current bytes. */
export async function writeDigestSidecar(path: string, digests: FileDigests, source?: string): Promise<void> {
  const stat = await Deno.stat(path);
  const record: DigestSidecar = { ...digests, mtimeMs: stat.mtime?.getTime() ?? 0, source };
  await writeJsonAtomic(sidecarPath(path), record);
}

/**
 * Digests of a present file: from its sidecar when size and mtime still match (unless `rehash`),
 * otherwise by hashing it (and refreshing the sidecar). Returns `null` when the file does not exist.
 */
export async function digestsOfPresentFile(
  path: string,
  { rehash = false }: { rehash?: boolean } = {},
): Promise<(FileDigests & { fromSidecar: boolean; source?: string }) | null> {
  let stat: Deno.FileInfo;
  try {
    stat = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  try {
    if (rehash) throw new Error("rehash requested");
    const sidecar = JSON.parse(await Deno.readTextFile(sidecarPath(path))) as DigestSidecar;
    if (
      sidecar.size === stat.size && sidecar.mtimeMs === (stat.mtime?.getTime() ?? 0) &&
      typeof sidecar.sha256 === "string" && typeof sidecar.md5 === "string"
    ) {
      return {
        size: sidecar.size,
        sha256: sidecar.sha256,
        md5: sidecar.md5,
        fromSidecar: true,
        source: sidecar.source,
      };
    }
  } catch {
    // no or unreadable sidecar: hash the file
  }
  const digests = await hashFile(path);
  await writeDigestSidecar(path, digests);
  return { ...digests, fromSidecar: false };
}
