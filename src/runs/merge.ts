/**
 * Merging the run records of many workers: several runs folders (a shared volume, downloaded CI
 * artifacts, one folder per machine) read as one set, one record per cell key.
 *
 * Two records of the same cell key:
 * - identical (the same canonical JSON, e.g. one artifact downloaded twice): one is kept;
 * - one `completed`, the other not (a worker that died, then a retry that finished): the completed one is
 *   kept, with a warning naming both files;
 * - otherwise they disagree (the cell was computed twice): the merge is refused, naming both files,
 *   unless a preference says which wins: `newest` (the later `finishedAt`, else `startedAt`) or a folder
 *   (the record read from that runs folder).
 *
 * @module
 */
import { resolve } from "node:path";
import { UsageError } from "../core/errors.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { readRunRecordEntries, type StoredRunRecord } from "./store.ts";

/** Which of two different records of one cell wins: none (refuse), the newest, or the one from a folder. */
export type RecordPreference = { kind: "none" } | { kind: "newest" } | { kind: "dir"; dir: string };

/** Two different records of one cell and no preference that decides between them. */
export class RunRecordConflictError extends Error {
  override name = "RunRecordConflictError";
}

/** Options of {@linkcode readMergedRunRecords}. */
export interface MergeOptions {
  /** Default `{ kind: "none" }`: two different records of one cell are an error. */
  prefer?: RecordPreference;
}

/** What {@linkcode readMergedRunRecords} returns. */
export interface MergedRunRecords {
  /** One record per cell key, sorted by run id (then path), each with the file it came from. */
  entries: StoredRunRecord[];
  /** Unreadable records, missing folders, superseded records. */
  warnings: string[];
}

/**
 * Parses `--prefer`: `newest`, or a runs folder (one of `runsDirs`).
 *
 * @example
 * ```ts
 * parsePreference("newest", ["a/runs", "b/runs"]); // { kind: "newest" }
 * ```
 */
export function parsePreference(value: string | undefined, runsDirs: string[]): RecordPreference {
  if (value === undefined) return { kind: "none" };
  if (value === "newest") return { kind: "newest" };
  if (!runsDirs.some((d) => resolve(d) === resolve(value))) {
    throw new UsageError(
      `--prefer ${value}: expected 'newest' or one of the --runs folders (${runsDirs.join(", ")})`,
    );
  }
  return { kind: "dir", dir: value };
}

function finishedTime(entry: StoredRunRecord): string {
  return entry.record.finishedAt ?? entry.record.startedAt;
}

function describe(entry: StoredRunRecord): string {
  const r = entry.record;
  return `${entry.path} (${r.status}, ${
    r.finishedAt ? `finished ${r.finishedAt}` : `started ${r.startedAt}`
  })`;
}

/** The record of `a` and `b` (same cell key) to keep, or a conflict error. `dirOf` maps a record to its folder. */
function pick(
  a: StoredRunRecord,
  b: StoredRunRecord,
  prefer: RecordPreference,
  dirOf: Map<StoredRunRecord, string>,
  warnings: string[],
): StoredRunRecord {
  if (canonicalJson(a.record) === canonicalJson(b.record)) return a;
  const aDone = a.record.status === "completed", bDone = b.record.status === "completed";
  if (aDone !== bDone) {
    const [kept, dropped] = aDone ? [a, b] : [b, a];
    warnings.push(`${dropped.path} (${dropped.record.status}) is superseded by completed ${kept.path}`);
    return kept;
  }
  if (prefer.kind === "newest" && finishedTime(a) !== finishedTime(b)) {
    return finishedTime(a) > finishedTime(b) ? a : b;
  }
  if (prefer.kind === "dir") {
    const wanted = resolve(prefer.dir);
    const fromA = resolve(dirOf.get(a)!) === wanted, fromB = resolve(dirOf.get(b)!) === wanted;
    if (fromA !== fromB) return fromA ? a : b;
  }
  throw new RunRecordConflictError(
    `two different records of cell ${a.record.runId} (cell key ${a.record.cellKey.slice(0, 12)}…): ` +
      `${describe(a)} and ${describe(b)}. Pass --prefer newest to keep the later one, or --prefer DIR ` +
      "to keep the one from that --runs folder (or delete the one you do not want)",
  );
}

/**
 * Reads the run records of every folder in `runsDirs` and merges them: one record per cell key (see the
 * module comment for how duplicates are resolved).
 *
 * @example
 * ```ts
 * const { entries } = await readMergedRunRecords(["worker-0/runs", "worker-1/runs"], {
 *   prefer: { kind: "newest" },
 * });
 * ```
 */
export async function readMergedRunRecords(
  runsDirs: string[],
  { prefer = { kind: "none" } }: MergeOptions = {},
): Promise<MergedRunRecords> {
  const warnings: string[] = [];
  const dirOf = new Map<StoredRunRecord, string>();
  const byCell = new Map<string, StoredRunRecord>();
  for (const dir of runsDirs) {
    const read = await readRunRecordEntries(dir);
    warnings.push(...read.warnings);
    for (const entry of read.entries) {
      dirOf.set(entry, dir);
      const held = byCell.get(entry.record.cellKey);
      byCell.set(entry.record.cellKey, held ? pick(held, entry, prefer, dirOf, warnings) : entry);
    }
  }
  const entries = [...byCell.values()].sort((a, b) =>
    a.record.runId.localeCompare(b.record.runId) || a.path.localeCompare(b.path)
  );
  return { entries, warnings };
}
