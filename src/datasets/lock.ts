/**
 * `datasets.lock.json`: every downloadable file (mirrors, size, hashes, archive type), each dataset's
 * licence and its expected extracted layout. Validated with zod when loaded; a wrong or missing field is
 * an error that names the entry and the field.
 *
 * @module
 */
import { canonicalJsonSha256 } from "../util/canonical_json.ts";
import { z } from "zod";
import { DATASET_NAMES } from "../core/datasets.ts";

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lowercase hex digits (SHA-256)");
const md5Hex = z.string().regex(/^[0-9a-f]{32}$/, "expected 32 lowercase hex digits (MD5)");
const count = z.number().int().nonnegative();

/** One accepted byte-exact copy of a file (e.g. the upstream .gz or Debian's recompressed .gz). */
const acceptedCopySchema = z.object({
  /** Where this copy comes from, e.g. `upstream` or `debian`. */
  source: z.string().min(1),
  /** Size in bytes; `null` when not published (pinned on first download). */
  size: z.number().int().positive().nullable(),
  sha256: sha256Hex.optional(),
  md5: md5Hex.optional(),
}).refine((c) => c.sha256 !== undefined || c.md5 !== undefined, {
  message: "needs a sha256 or an md5",
});

/** Hash of a file's decompressed content (for `.gz` files whose compressed bytes differ by packager). */
const contentSchema = z.object({
  size: z.number().int().positive(),
  sha256: sha256Hex,
});

const fileSchema = z.object({
  /** File name; also the name appended to a `--mirror` base URL or folder. */
  name: z.string().regex(/^[A-Za-z0-9._-]+$/, "a plain file name (letters, digits, . _ -)"),
  archive: z.enum(["tar.xz", "zip", "gz"]),
  /** Full URLs, tried in order after the user's `--mirror`s. */
  mirrors: z.array(z.url()),
  /** Any one of these copies is accepted (every field it gives must match). */
  accept: z.array(acceptedCopySchema).min(1),
  content: contentSchema.optional(),
});

const categoryCountsSchema = z.object({
  trainGood: count,
  testGood: count,
  testDefect: count,
  masks: count,
  defectTypes: count,
  /** Width and height of every train/test image, read from the file headers after extraction. */
  imageSize: z.tuple([z.number().int().positive(), z.number().int().positive()]).optional(),
  /** Colour type of every train/test image as the header says (`grey`, `rgb`, `bmp24`, …). */
  colour: z.string().min(1).optional(),
});

const categoriesLayoutSchema = z.object({
  kind: z.literal("categories"),
  /** Folder inside the extraction folder that holds the category folders. */
  root: z.string().min(1),
  /** Name of the normal-image folders: `good` (MVTec) or `ok` (BTAD). */
  normalFolder: z.string().min(1),
  imageExtensions: z.array(z.string().regex(/^\.[a-z0-9]+$/)).min(1),
  /** Where the counts come from and how sure they are. */
  countsSource: z.string().min(1),
  categories: z.record(z.string(), categoryCountsSchema),
});

const idxFileSchema = z.object({
  /** IDX magic number: 2051 (0x803) images, 2049 (0x801) labels. */
  magic: z.number().int(),
  dims: z.array(z.number().int().positive()).min(1),
});

const idxLayoutSchema = z.object({
  kind: z.literal("idx"),
  /** Decompressed IDX file name → header. */
  files: z.record(z.string(), idxFileSchema),
});

const generatorSchema = z.object({
  kind: z.literal("synthetic"),
  version: z.number().int().positive(),
  seed: z.number().int().nonnegative(),
  imageSize: z.number().int().positive(),
  /** SHA-256 of the manifest (`sha256  path` lines, sorted) of the generated tree. */
  manifestSha256: sha256Hex,
});

const licenceSchema = z.object({
  name: z.string().min(1),
  url: z.url(),
  /** Downloads need `--accept-license` once per data dir. */
  requiresAcceptance: z.boolean(),
  notes: z.string().optional(),
});

const datasetSchema = z.object({
  title: z.string().min(1),
  homepage: z.url().optional(),
  licence: licenceSchema,
  files: z.array(fileSchema),
  layout: z.discriminatedUnion("kind", [categoriesLayoutSchema, idxLayoutSchema]),
  generator: generatorSchema.optional(),
  notes: z.string().optional(),
});

/** One accepted copy of a file. */
export type AcceptedCopy = z.infer<typeof acceptedCopySchema>;
/** One file of a dataset as the lock pins it. */
export type LockFile = z.infer<typeof fileSchema>;
/** Expected counts of one category (MVTec category, BTAD product, synthetic category). */
export type CategoryCounts = z.infer<typeof categoryCountsSchema>;
/** Expected layout of an MVTec-format tree. */
export type CategoriesLayout = z.infer<typeof categoriesLayoutSchema>;
/** Expected IDX files (MNIST, Fashion-MNIST). */
export type IdxLayout = z.infer<typeof idxLayoutSchema>;
/** A dataset entry of the lock. */
export type LockDataset = z.infer<typeof datasetSchema>;
/** The whole lock file. */
export interface DatasetsLock {
  version: 1;
  datasets: Record<string, LockDataset>;
}

/** Default lock path, relative to the working directory. */
export const DEFAULT_LOCK_PATH = "datasets.lock.json";

/** A lock file that does not match the schema. */
export class LockError extends Error {
  override name = "LockError";
}

function formatIssues(error: z.ZodError): string {
  return error.issues.map((issue) => {
    const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "(entry)";
    return `${where}: ${issue.message}`;
  }).join("; ");
}

/**
 * Validates an already-parsed lock value. Each dataset entry is checked on its own, so the error names
 * the entry and the field that is wrong.
 *
 * @example
 * ```ts
 * const lock = parseLock(JSON.parse(text), "datasets.lock.json");
 * ```
 */
export function parseLock(value: unknown, source = DEFAULT_LOCK_PATH): DatasetsLock {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new LockError(`${source}: expected a JSON object with "version" and "datasets"`);
  }
  const record = value as Record<string, unknown>;
  if (record.version !== 1) {
    throw new LockError(`${source}: "version" must be 1, got ${JSON.stringify(record.version)}`);
  }
  const datasets = record.datasets;
  if (typeof datasets !== "object" || datasets === null || Array.isArray(datasets)) {
    throw new LockError(`${source}: "datasets" must be an object of dataset entries`);
  }
  const out: Record<string, LockDataset> = {};
  for (const [name, entry] of Object.entries(datasets as Record<string, unknown>)) {
    const result = datasetSchema.safeParse(entry);
    if (!result.success) {
      throw new LockError(`${source}: entry "${name}": ${formatIssues(result.error)} (fix the lock file)`);
    }
    out[name] = result.data;
  }
  for (const name of DATASET_NAMES) {
    if (!(name in out)) {
      throw new LockError(`${source}: entry "${name}" is missing (add it to the lock file)`);
    }
  }
  return { version: 1, datasets: out };
}

/**
 * Reads and validates the lock file.
 *
 * @example
 * ```ts
 * const lock = await loadLock();
 * console.log(lock.datasets.mnist.files.map((f) => f.name));
 * ```
 */
export async function loadLock(path: string = DEFAULT_LOCK_PATH): Promise<DatasetsLock> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    throw new LockError(`cannot read lock file ${path}: ${(error as Error).message} (pass --lock FILE)`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new LockError(`${path}: not valid JSON: ${(error as Error).message}`);
  }
  return parseLock(value, path);
}

/**
 * SHA-256 (hex) of one dataset entry's canonical JSON: what a run records to say which lock it used.
 *
 * @example
 * ```ts
 * const digest = lockDigest(await loadLock(), "mvtec");
 * ```
 */
export function lockDigest(lock: DatasetsLock, dataset: string): string {
  const entry = lock.datasets[dataset];
  if (!entry) {
    throw new LockError(`lock has no entry "${dataset}" (known: ${Object.keys(lock.datasets).join(", ")})`);
  }
  return canonicalJsonSha256(entry);
}

/** The lock entry of `dataset`, or an error listing the known ones. */
export function lockEntry(lock: DatasetsLock, dataset: string): LockDataset {
  const entry = lock.datasets[dataset];
  if (!entry) {
    throw new LockError(
      `unknown dataset "${dataset}" (the lock has: ${Object.keys(lock.datasets).join(", ")})`,
    );
  }
  return entry;
}
