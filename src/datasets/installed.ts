/**
 * What an installed (extracted or generated) dataset tree is, file by file, and the check that it still
 * is that. At install time the tree gets a manifest (`sha256  path` lines; its SHA-256 is the dataset's
 * content digest, recorded with every run) and a file index (size, mtime and SHA-256 of every file).
 * Every later use compares the tree with the index: a file whose size or mtime changed is hashed again,
 * and a changed, missing or added file stops the run, named. `download --verify` hashes every file.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic_write.ts";
import { hashFile, sha256Hex } from "./hashing.ts";

/** Marker written into an installed tree (dataset, lock digest, archive digests, observed layout). */
export const MARKER_FILE = ".vtadl-dataset.json";
/** Manifest of an installed tree: one `sha256  path` line per file, sorted by path. */
export const MANIFEST_FILE = ".vtadl-manifest.txt";
/** Size, mtime and SHA-256 of every installed file, for the cheap check on every use. */
export const FILE_INDEX = ".vtadl-files.json";

const OWN_FILES = new Set([MARKER_FILE, MANIFEST_FILE, FILE_INDEX]);

/** Installed file path (relative, `/`-separated) → SHA-256 hex. */
export type Manifest = Map<string, string>;

/** The installed files differ from what was verified at install time. */
export class DataChangedError extends Error {
  override name = "DataChangedError";
}

/**
 * The manifest as text: `sha256  path` lines sorted by path (as `sha256sum` prints them).
 *
 * @example
 * ```ts
 * manifestText(new Map([["a.png", "00…"]])); // "00…  a.png\n"
 * ```
 */
export function manifestText(manifest: Manifest): string {
  return [...manifest.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, sha]) => `${sha}  ${path}\n`).join("");
}

/** SHA-256 of {@linkcode manifestText}: the content digest of a tree. */
export function manifestDigest(manifest: Manifest): string {
  return sha256Hex(manifestText(manifest));
}

/** Parses {@linkcode manifestText}. */
export function parseManifest(text: string): Manifest {
  const manifest: Manifest = new Map();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const match = /^([0-9a-f]{64}) {2}(.+)$/.exec(line);
    if (!match) throw new Error(`malformed manifest line: ${line}`);
    manifest.set(match[2], match[1]);
  }
  return manifest;
}

/** One file of the index: size in bytes, mtime in ms, SHA-256. */
type IndexEntry = [size: number, mtimeMs: number, sha256: string];

interface FileIndex {
  version: 1;
  files: Record<string, IndexEntry>;
}

async function entryOf(path: string, sha256: string): Promise<IndexEntry> {
  const stat = await Deno.stat(path);
  return [stat.size, stat.mtime?.getTime() ?? 0, sha256];
}

/**
 * Writes the manifest and the file index of a tree whose files' hashes are `manifest` (computed while
 * extracting or generating them).
 */
export async function writeInstallRecords(dir: string, manifest: Manifest): Promise<void> {
  const files: Record<string, IndexEntry> = {};
  for (const [rel, sha] of manifest) files[rel] = await entryOf(join(dir, rel), sha);
  await writeFileAtomic(join(dir, MANIFEST_FILE), manifestText(manifest));
  await writeJsonAtomic(join(dir, FILE_INDEX), { version: 1, files } satisfies FileIndex);
}

/** Every regular file below `dir`, relative with `/`, without the tree's own records. */
async function listTree(dir: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const entry of Deno.readDir(join(dir, prefix))) {
    const rel = prefix === "" ? entry.name : `${prefix}/${entry.name}`;
    if (prefix === "" && OWN_FILES.has(entry.name)) continue;
    if (entry.isDirectory) out.push(...await listTree(dir, rel));
    else out.push(rel);
  }
  return out;
}

async function readIndex(dir: string): Promise<FileIndex | null> {
  try {
    const value = JSON.parse(await Deno.readTextFile(join(dir, FILE_INDEX))) as FileIndex;
    return value?.version === 1 && typeof value.files === "object" ? value : null;
  } catch {
    return null;
  }
}

/** Builds the index of a tree installed before indexes existed, from its manifest (hashing every file). */
async function indexFromManifest(dataset: string, dir: string): Promise<FileIndex> {
  let text: string;
  try {
    text = await Deno.readTextFile(join(dir, MANIFEST_FILE));
  } catch {
    throw new DataChangedError(
      `${dataset}: ${dir} has no ${MANIFEST_FILE}, so its files cannot be checked; delete ${dir} and run ` +
        `'deno task download ${dataset}' to install it again`,
    );
  }
  const files: Record<string, IndexEntry> = {};
  for (const [rel, sha] of parseManifest(text)) {
    try {
      files[rel] = await entryOf(join(dir, rel), sha);
    } catch {
      files[rel] = [-1, -1, sha]; // missing: reported below
    }
  }
  return { version: 1, files };
}

/** What {@linkcode verifyInstalledFiles} did. */
export interface TreeCheck {
  /** Files in the tree. */
  files: number;
  /** Files whose content was hashed (all of them with `full`). */
  hashed: number;
}

function listed(paths: string[], max = 10): string {
  return paths.length <= max
    ? paths.join(", ")
    : `${paths.slice(0, max).join(", ")} and ${paths.length - max} more`;
}

/**
 * Checks that every installed file is still the one verified at install time: size and mtime for all,
 * the SHA-256 of those whose size or mtime changed (of every file with `full`). Throws a
 * {@linkcode DataChangedError} naming every changed, missing and added file.
 *
 * @example
 * ```ts
 * await verifyInstalledFiles("mvtec", "data/mvtec", { full: true });
 * ```
 */
export async function verifyInstalledFiles(
  dataset: string,
  dir: string,
  { full = false }: { full?: boolean } = {},
): Promise<TreeCheck> {
  let index = await readIndex(dir);
  let dirty = false;
  if (index === null) {
    index = await indexFromManifest(dataset, dir);
    dirty = true;
    full = true;
  }
  const present = new Set(await listTree(dir));
  const changed: string[] = [], missing: string[] = [];
  let hashed = 0;
  for (const [rel, [size, mtimeMs, sha]] of Object.entries(index.files)) {
    if (!present.has(rel)) {
      missing.push(rel);
      continue;
    }
    const path = join(dir, rel);
    const stat = await Deno.stat(path);
    const mtime = stat.mtime?.getTime() ?? 0;
    if (!full && stat.size === size && mtime === mtimeMs) continue;
    if (stat.size !== size) {
      changed.push(rel);
      continue;
    }
    hashed++;
    if ((await hashFile(path)).sha256 !== sha) changed.push(rel);
    else if (mtime !== mtimeMs) {
      index.files[rel] = [stat.size, mtime, sha]; // touched, same bytes
      dirty = true;
    }
  }
  const added = [...present].filter((rel) => !(rel in index.files)).sort();
  if (changed.length + missing.length + added.length > 0) {
    const parts = [
      changed.length > 0 ? `changed: ${listed(changed.sort())}` : "",
      missing.length > 0 ? `missing: ${listed(missing.sort())}` : "",
      added.length > 0 ? `added: ${listed(added)}` : "",
    ].filter((p) => p !== "");
    throw new DataChangedError(
      `${dataset}: the files in ${dir} are not the ones verified when it was installed (${
        parts.join("; ")
      }). ` +
        `Results on it would not match its lock digest: restore the files, or delete ${dir} and run ` +
        `'deno task download ${dataset}' to install it again`,
    );
  }
  if (dirty) await writeJsonAtomic(join(dir, FILE_INDEX), index);
  return { files: present.size, hashed };
}
