/**
 * The data layer's public API: lock → download → extract → load → preprocess.
 *
 * @module
 */
export { type DatasetsLock, loadLock, lockDigest, LockError } from "./lock.ts";
export { ensureDataset, type EnsuredDataset, type EnsureOptions, LayoutError } from "./ensure.ts";
export { DownloadError, type DownloadOptions, downloadVerified, type VerifiedFile } from "./download.ts";
export { ArchiveError, UnsafeArchiveError } from "./extract.ts";
export { LicenceError } from "./licence.ts";
export { listCategories, loadCategorySplit, type PreprocessOptions } from "./loaders.ts";
export { packSyntheticArchive } from "./synthetic.ts";
export type { CategorySplit, ImageSample } from "./types.ts";
