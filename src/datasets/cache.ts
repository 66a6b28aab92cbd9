/**
 * On-disk cache of preprocessed uint8 pixels, keyed by the source file's SHA-256 and the transform, so
 * epochs and repeated runs never decode and resize again. Source digests are remembered in an index keyed
 * by path, size and mtime, so a warm load reads no source image at all.
 *
 * ```
 * <cacheDir>/source-digests.json                 absolute path → { size, mtimeMs, sha256 }
 * <cacheDir>/preprocessed/<k[0..2]>/<key>.u8     raw uint8 bytes (HWC pixels or H×W 0/1 mask)
 * ```
 *
 * @module
 */
import { join, resolve } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic_write.ts";
import { hashFile, sha256Hex } from "./hashing.ts";

interface IndexEntry {
  size: number;
  mtimeMs: number;
  sha256: string;
}

/** Cache format version; bump when the preprocessing changes its output. */
export const CACHE_VERSION = 1;

/** A preprocessed-pixel cache; `dir` `null` disables storing (digests are still computed). */
export class PreprocessCache {
  #index: Record<string, IndexEntry> = {};
  #indexLoaded = false;
  #dirty = false;
  /** Cache hits and misses since creation (for benchmarks and tests). */
  readonly stats = { hits: 0, misses: 0 };

  constructor(readonly dir: string | null) {}

  async #loadIndex(): Promise<void> {
    if (this.#indexLoaded) return;
    this.#indexLoaded = true;
    if (!this.dir) return;
    try {
      this.#index = JSON.parse(await Deno.readTextFile(join(this.dir, "source-digests.json")));
    } catch {
      this.#index = {};
    }
  }

  /** SHA-256 of a source file, from the index when its size and mtime are unchanged. */
  async sourceDigest(path: string): Promise<string> {
    await this.#loadIndex();
    const key = resolve(path);
    const stat = await Deno.stat(path);
    const mtimeMs = stat.mtime?.getTime() ?? 0;
    const known = this.#index[key];
    if (known && known.size === stat.size && known.mtimeMs === mtimeMs) return known.sha256;
    const { sha256 } = await hashFile(path);
    this.#index[key] = { size: stat.size, mtimeMs, sha256 };
    this.#dirty = true;
    return sha256;
  }

  /** The cache key of a transform applied to a source digest. */
  static key(sourceSha256: string, transform: Record<string, string | number>): string {
    const parts = Object.keys(transform).sort().map((k) => `${k}=${transform[k]}`);
    return sha256Hex(`v${CACHE_VERSION}|${sourceSha256}|${parts.join("|")}`);
  }

  #blobPath(key: string): string {
    return join(this.dir!, "preprocessed", key.slice(0, 2), `${key}.u8`);
  }

  /** Cached bytes of `key` when present with the expected length, else `null`. */
  async get(key: string, expectedLength: number): Promise<Uint8Array | null> {
    if (!this.dir) {
      this.stats.misses++;
      return null;
    }
    try {
      const bytes = await Deno.readFile(this.#blobPath(key));
      if (bytes.length === expectedLength) {
        this.stats.hits++;
        return bytes;
      }
    } catch {
      // absent or unreadable: recompute
    }
    this.stats.misses++;
    return null;
  }

  /** Stores bytes under `key` (atomically). */
  async put(key: string, bytes: Uint8Array): Promise<void> {
    if (!this.dir) return;
    await writeFileAtomic(this.#blobPath(key), bytes);
  }

  /** Writes the digest index when it changed. */
  async flush(): Promise<void> {
    if (!this.dir || !this.#dirty) return;
    await writeJsonAtomic(join(this.dir, "source-digests.json"), this.#index);
    this.#dirty = false;
  }
}
