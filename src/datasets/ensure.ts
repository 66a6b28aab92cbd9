/**
 * `ensureDataset`: the one call the pipeline makes to have a dataset on disk, verified against the lock.
 * Downloads (or, for `synthetic` without a mirror, generates) every file, verifies it, extracts into a
 * temporary folder, checks the layout and counts against the lock, records every file's size, mtime and
 * SHA-256, writes a marker with the archive digests, then renames the folder into place. When the marker
 * matches, it checks the installed files against that record (`installed.ts`) and stops, naming the
 * file, when one changed.
 *
 * Data dir layout:
 * ```
 * <dataDir>/downloads/<dataset>/<file>   archives (+ .digest.json sidecar, .part while downloading)
 * <dataDir>/<dataset>/                   extracted tree (+ .vtadl-dataset.json marker, .vtadl-manifest.txt)
 * <dataDir>/licences-accepted.json       licences accepted with --accept-license
 * <dataDir>/.cache/                      preprocessed images (see cache.ts)
 * ```
 *
 * @module
 */
import { join } from "node:path";
import { writeJsonAtomic } from "../util/atomic_write.ts";
import { DownloadError, type DownloadOptions, downloadVerified, type VerifiedFile } from "./download.ts";
import { extractGzip, extractTarXz, extractZip } from "./extract.ts";
import { withFileLock } from "../util/file_lock.ts";
import { checkCategoriesLayout, checkIdxLayout, type ObservedCategory } from "./layout.ts";
import { checkLicence } from "./licence.ts";
import { loadLock, type LockDataset, lockDigest as computeLockDigest, lockEntry } from "./lock.ts";
import { defaultProgress, writeStderrLine } from "./progress.ts";
import { DEFAULT_SYNTHETIC_SPEC, writeSyntheticTree } from "./synthetic.ts";
import {
  type Manifest,
  manifestDigest,
  MARKER_FILE,
  verifyInstalledFiles,
  writeInstallRecords,
} from "./installed.ts";
import { pathExists } from "../util/fs.ts";
import type { DatasetName } from "../core/datasets.ts";

/** Options of {@linkcode ensureDataset}. */
export interface EnsureOptions {
  /** Data dir (default in the CLI: `./data`). */
  dataDir: string;
  /** Base URLs or folders tried before the lock's URLs. */
  mirrors?: string[];
  /** Lock file path. Default `datasets.lock.json`. */
  lockPath?: string;
  /** No network: local mirrors and present files only. */
  offline?: boolean;
  /** Accept a licence that requires it (recorded in the data dir). */
  acceptLicense?: boolean;
  /** No progress output. */
  quiet?: boolean;
  /**
   * Hash every installed file (and re-hash present archives) instead of trusting size and mtime: what
   * `download --verify` and the nightly run do.
   */
  verify?: boolean;
  /** Tuning of the downloader (retries, timeouts, progress sink); mostly for tests. */
  download?: Omit<DownloadOptions, "mirrors" | "offline">;
}

/** What is on disk after {@linkcode ensureDataset}. */
export interface EnsuredDataset {
  dataset: string;
  /** Folder the loaders read: category folders (MVTec, BTAD, synthetic) or the IDX files. */
  root: string;
  /** Licence name and URL, for run metadata and reports. */
  licence: string;
  /** Licence caveats to print with results (e.g. BTAD's conflicting statements), when the lock has any. */
  licenceNotes?: string;
  /** SHA-256 of the lock entry used. */
  lockDigest: string;
  /** Archive file name → SHA-256 (for `synthetic` generated locally: `{}`). */
  archiveDigests: Record<string, string>;
  /** SHA-256 of the manifest of the installed files: the content digest of the data a run uses. */
  manifestSha256: string;
  /** `present` (verified, nothing to do), `downloaded` (extracted now) or `generated` (synthetic). */
  status: "present" | "downloaded" | "generated";
}

/** The extracted tree does not match the lock. */
export class LayoutError extends Error {
  override name = "LayoutError";
}

interface Marker {
  dataset: string;
  lockDigest: string;
  archives: Record<string, string>;
  manifestSha256: string;
  generated: boolean;
  createdAt: string;
  /** Per category: counts, image sizes and colour types read from the headers at extraction. */
  observed: Record<string, ObservedCategory>;
}

async function readMarker(datasetDir: string): Promise<Marker | null> {
  try {
    return JSON.parse(await Deno.readTextFile(join(datasetDir, MARKER_FILE))) as Marker;
  } catch {
    return null;
  }
}

function rootOf(datasetDir: string, entry: LockDataset): string {
  return entry.layout.kind === "categories" ? join(datasetDir, entry.layout.root) : datasetDir;
}

function layoutDifferences(
  datasetDir: string,
  entry: LockDataset,
  observe?: { headers: boolean; observed: Record<string, ObservedCategory> },
): Promise<string[]> {
  return entry.layout.kind === "categories"
    ? checkCategoriesLayout(rootOf(datasetDir, entry), entry.layout, observe)
    : checkIdxLayout(datasetDir, entry.layout);
}

function sameDigests(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = Object.keys(a).sort();
  return keys.join("|") === Object.keys(b).sort().join("|") && keys.every((k) => a[k] === b[k]);
}

/** Moves a finished temporary tree into place; an older tree of ours is replaced, anything else kept aside. */
async function install(tmp: string, datasetDir: string): Promise<void> {
  if (await pathExists(datasetDir)) {
    if (await pathExists(join(datasetDir, MARKER_FILE))) await Deno.remove(datasetDir, { recursive: true });
    else await Deno.rename(datasetDir, `${datasetDir}.previous-${Date.now()}`);
  }
  await Deno.rename(tmp, datasetDir);
}

async function finish(
  tmp: string,
  datasetDir: string,
  marker: Marker,
  manifest: Manifest,
): Promise<void> {
  // Renaming the tree into place keeps every file's mtime, so the index stays valid.
  await writeInstallRecords(tmp, manifest);
  await writeJsonAtomic(join(tmp, MARKER_FILE), marker);
  await install(tmp, datasetDir);
}

/** Full layout check of a new tree (counts, and image sizes and colours from the headers). */
async function checkedLayout(
  dir: string,
  dataset: string,
  entry: LockDataset,
  what: string,
): Promise<Record<string, ObservedCategory>> {
  const observed: Record<string, ObservedCategory> = {};
  if (entry.layout.kind === "categories" && !(await pathExists(join(dir, entry.layout.root)))) {
    const top = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    throw new LayoutError(
      `${dataset}: ${what} has no folder ${entry.layout.root}/ at its top (found: ${
        top.join(", ") || "nothing"
      }); ` +
        `a differently packed mirror? Set layout.root in the lock if this is intended.`,
    );
  }
  const differences = await layoutDifferences(dir, entry, { headers: true, observed });
  if (differences.length > 0) {
    throw new LayoutError(
      `${dataset}: ${what} does not match the lock's layout (${
        entry.layout.kind === "categories" ? entry.layout.countsSource : "IDX headers"
      }): ${differences.join("; ")}. An incomplete or different mirror? Try another ` +
        `--mirror, or fix the counts in the lock if the source changed on purpose.`,
    );
  }
  return observed;
}

/**
 * Makes `dataset` present and verified under `options.dataDir`, and says where it is.
 *
 * @example
 * ```ts
 * const ds = await ensureDataset("synthetic", { dataDir: "data" });
 * const categories = await listCategories("synthetic", ds.root);
 * ```
 */
export async function ensureDataset(dataset: DatasetName, options: EnsureOptions): Promise<EnsuredDataset> {
  const lock = await loadLock(options.lockPath);
  const entry = lockEntry(lock, dataset);
  const digest = computeLockDigest(lock, dataset);
  await checkLicence(dataset, entry, options.dataDir, options.acceptLicense ?? false);
  const datasetDir = join(options.dataDir, dataset);
  const downloadsDir = join(options.dataDir, "downloads", dataset);
  const licence = `${entry.licence.name} (${entry.licence.url})`;
  const result = (
    status: EnsuredDataset["status"],
    archives: Record<string, string>,
    manifestSha256: string,
  ) => ({
    dataset,
    root: rootOf(datasetDir, entry),
    licence,
    licenceNotes: entry.licence.notes,
    lockDigest: digest,
    archiveDigests: archives,
    manifestSha256,
    status,
  });
  // A present tree is used only after its files are checked against the index written at install time
  // (which also covers its layout, checked then); a changed file stops here, named, and is never replaced.
  const present = async (archives: Record<string, string>, manifestSha256: string) => {
    await verifyInstalledFiles(dataset, datasetDir, { full: options.verify });
    return result("present", archives, manifestSha256);
  };
  const mirrors = options.mirrors ?? [];
  const generate = entry.generator !== undefined && mirrors.length === 0 &&
    entry.files.every((f) => f.mirrors.length === 0);

  return await withFileLock(join(options.dataDir, `.${dataset}.lock`), async () => {
    const marker = await readMarker(datasetDir);

    if (generate) {
      const generator = entry.generator!;
      if (marker && marker.manifestSha256 === generator.manifestSha256) {
        return await present(marker.archives, marker.manifestSha256);
      }
      const tmp = `${datasetDir}.generating-${crypto.randomUUID().slice(0, 8)}`;
      try {
        const spec = { ...DEFAULT_SYNTHETIC_SPEC, seed: generator.seed, imageSize: generator.imageSize };
        const manifest = await writeSyntheticTree(tmp, { ...spec, version: generator.version });
        const manifestSha256 = manifestDigest(manifest);
        if (manifestSha256 !== generator.manifestSha256) {
          throw new LayoutError(
            `synthetic: the generated tree's manifest sha256 ${manifestSha256} differs from the lock's ` +
              `${generator.manifestSha256}: the generator or its dependencies changed; re-pin with ` +
              `'deno task download synthetic --pack DIR' and update datasets.lock.json`,
          );
        }
        const observed = await checkedLayout(tmp, dataset, entry, "the generated tree");
        await finish(tmp, datasetDir, {
          dataset,
          lockDigest: digest,
          archives: {},
          manifestSha256,
          generated: true,
          createdAt: new Date().toISOString(),
          observed,
        }, manifest);
        return result("generated", {}, manifestSha256);
      } finally {
        await Deno.remove(tmp, { recursive: true }).catch(() => {});
      }
    }

    // Archives deleted after extraction (to save space): the marker and the file index vouch for the tree.
    if (marker && marker.lockDigest === digest) {
      const anyArchive = await Promise.all(entry.files.map((f) => pathExists(join(downloadsDir, f.name))));
      if (!anyArchive.some(Boolean)) return await present(marker.archives, marker.manifestSha256);
    }

    const downloadOptions: DownloadOptions = {
      ...options.download,
      mirrors,
      offline: options.offline,
      progress: options.download?.progress ?? defaultProgress(options.quiet),
      log: options.download?.log ?? (options.quiet ? undefined : writeStderrLine),
      rehash: options.verify,
    };
    // Try every file before failing, so one error lists everything that is missing.
    const verified: VerifiedFile[] = [];
    const failed: DownloadError[] = [];
    for (const file of entry.files) {
      try {
        verified.push(await downloadVerified(file, downloadsDir, downloadOptions));
      } catch (error) {
        if (!(error instanceof DownloadError)) throw error;
        failed.push(error);
      }
    }
    if (failed.length === 1) throw failed[0];
    if (failed.length > 1) {
      throw new DownloadError(
        `${dataset}: ${failed.length} of ${entry.files.length} files could not be fetched\n` +
          failed.map((e) => e.message).join("\n"),
        failed.flatMap((e) => e.failures),
      );
    }
    const archives = Object.fromEntries(verified.map((v) => [v.name, v.sha256]));

    if (marker && sameDigests(marker.archives, archives)) {
      return await present(archives, marker.manifestSha256);
    }

    const tmp = `${datasetDir}.extracting-${crypto.randomUUID().slice(0, 8)}`;
    await Deno.mkdir(tmp, { recursive: true });
    try {
      const manifest = new Map<string, string>();
      for (const [i, file] of entry.files.entries()) {
        const path = verified[i].path;
        if (file.archive === "tar.xz") {
          for (const [p, h] of await extractTarXz(path, tmp, file.name)) manifest.set(p, h);
        } else if (file.archive === "zip") {
          for (const [p, h] of await extractZip(path, tmp, file.name)) manifest.set(p, h);
        } else {
          const outName = file.name.replace(/\.gz$/, "");
          const content = await extractGzip(path, join(tmp, outName));
          if (
            file.content && (content.sha256 !== file.content.sha256 || content.size !== file.content.size)
          ) {
            throw new LayoutError(
              `${dataset}: ${file.name} decompresses to ${content.size} bytes with sha256 ${content.sha256}, ` +
                `the lock expects ${file.content.size} bytes with sha256 ${file.content.sha256}`,
            );
          }
          manifest.set(outName, content.sha256);
        }
      }
      const observed = await checkedLayout(tmp, dataset, entry, "the extracted tree");
      const manifestSha256 = manifestDigest(manifest);
      if (entry.generator && manifestSha256 !== entry.generator.manifestSha256) {
        throw new LayoutError(
          `${dataset}: the extracted files' manifest sha256 ${manifestSha256} differs from the lock's ` +
            `${entry.generator.manifestSha256} (the archive holds different files)`,
        );
      }
      await finish(tmp, datasetDir, {
        dataset,
        lockDigest: digest,
        archives,
        manifestSha256,
        generated: false,
        createdAt: new Date().toISOString(),
        observed,
      }, manifest);
      return result("downloaded", archives, manifestSha256);
    } finally {
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
    }
  }, { onWait: () => options.quiet || console.error(`${dataset}: waiting for another process to finish`) });
}
