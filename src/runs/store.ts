/**
 * The run store: one folder per run under a runs folder, holding `result.json` (the record, see
 * `record.ts`) and `events.jsonl` (MLPerf-style events: `run_start`, `epoch_start`/`epoch_stop`,
 * `eval_accuracy`, `run_stop` with a status).
 *
 * Both files are rewritten atomically on every change, so a reader (or a crash) never sees half a file.
 * Tables are rendered from these records only.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic, writeJsonAtomic } from "../util/atomic_write.ts";
import { parseRunRecord, type RunRecord } from "./record.ts";

/** One MLPerf-style logging event (the `:::MLLOG` payload, one per line of events.jsonl). */
export interface RunEvent {
  namespace: "vtadl-bench";
  time_ms: number;
  event_type: "INTERVAL_START" | "INTERVAL_END" | "POINT_IN_TIME";
  key: string;
  value: unknown;
  metadata: Record<string, unknown>;
}

/**
 * Writes one run's record and event log, each change atomically.
 *
 * @example
 * ```ts
 * const rec = new RunRecorder("reports/runs/synthetic_a_vtadl_smoke_seed0_1234abcd", record);
 * await rec.event("INTERVAL_START", "run_start", null);
 * await rec.save({ status: "completed" });
 * ```
 */
export class RunRecorder {
  readonly dir: string;
  #record: RunRecord;
  #events: RunEvent[] = [];
  #pending: Promise<void> = Promise.resolve();

  constructor(dir: string, record: RunRecord) {
    this.dir = dir;
    this.#record = record;
  }

  /** The record as last updated. */
  get record(): RunRecord {
    return this.#record;
  }

  /** Events logged so far. */
  get events(): readonly RunEvent[] {
    return this.#events;
  }

  /** Merges `patch` into the record and rewrites result.json. */
  save(patch: Partial<RunRecord> = {}): Promise<void> {
    this.#record = { ...this.#record, ...patch };
    const snapshot = structuredClone(this.#record);
    return this.#enqueue(() => writeJsonAtomic(join(this.dir, "result.json"), snapshot));
  }

  /** Appends an event (time now unless `timeMs` is given) and rewrites events.jsonl. */
  event(
    eventType: RunEvent["event_type"],
    key: string,
    value: unknown,
    metadata: Record<string, unknown> = {},
    timeMs = Date.now(),
  ): Promise<void> {
    this.#events.push({
      namespace: "vtadl-bench",
      time_ms: timeMs,
      event_type: eventType,
      key,
      value,
      metadata,
    });
    const text = this.#events.map((e) => JSON.stringify(e)).join("\n") + "\n";
    return this.#enqueue(() => writeFileAtomic(join(this.dir, "events.jsonl"), text));
  }

  /** Waits for every queued write. */
  flush(): Promise<void> {
    return this.#pending;
  }

  #enqueue(write: () => Promise<void>): Promise<void> {
    this.#pending = this.#pending.then(write, write);
    return this.#pending;
  }
}

/** Reads `events.jsonl` of a run folder. */
export async function readRunEvents(runDir: string): Promise<RunEvent[]> {
  const text = await Deno.readTextFile(join(runDir, "events.jsonl"));
  return text.split("\n").filter((l) => l.trim() !== "").map((l) => JSON.parse(l) as RunEvent);
}

/** Reads one `result.json`; null if absent. Throws naming the file when it is not a run record. */
export async function readRunRecord(path: string): Promise<RunRecord | null> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new Error(`${path} is not valid JSON; delete the run folder to rerun that cell`);
  }
  return parseRunRecord(value, path);
}

/** A run record and the `result.json` it was read from. */
export interface StoredRunRecord {
  record: RunRecord;
  /** Path of its `result.json`. */
  path: string;
}

/**
 * Every run record under `runsDir` (one folder per run) with its file, sorted by folder name; warnings for
 * unreadable ones and for a missing folder.
 *
 * @example
 * ```ts
 * const { entries } = await readRunRecordEntries("reports/runs");
 * for (const { record, path } of entries) console.log(record.runId, path);
 * ```
 */
export async function readRunRecordEntries(
  runsDir: string,
): Promise<{ entries: StoredRunRecord[]; warnings: string[] }> {
  const stored: StoredRunRecord[] = [];
  const warnings: string[] = [];
  let entries: Deno.DirEntry[];
  try {
    entries = await Array.fromAsync(Deno.readDir(runsDir));
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      return { entries: stored, warnings: [`no run folder at ${runsDir}`] };
    }
    throw error;
  }
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory || entry.name.startsWith(".")) continue;
    const path = join(runsDir, entry.name, "result.json");
    try {
      const record = await readRunRecord(path);
      if (record) stored.push({ record, path });
    } catch (error) {
      warnings.push(error instanceof Error ? error.message : String(error));
    }
  }
  return { entries: stored, warnings };
}

/** Every run record under `runsDir` (one folder per run), sorted by run id; warnings for unreadable ones. */
export async function readRunRecords(
  runsDir: string,
): Promise<{ records: RunRecord[]; warnings: string[] }> {
  const { entries, warnings } = await readRunRecordEntries(runsDir);
  return { records: entries.map((e) => e.record), warnings };
}
