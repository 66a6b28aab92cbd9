/**
 * Which cells of a plan one worker runs: all of them, the cells named by `--cell ID`, or shard `I` of `N`
 * (`--shard I/N`, or the array index a batch engine hands each worker: Kubernetes Indexed Jobs set
 * `JOB_COMPLETION_INDEX`, Slurm job arrays `SLURM_ARRAY_TASK_ID`).
 *
 * Shard `I/N` (I counted from 0) takes the cells at plan positions `p` with `p mod N = I`: round robin
 * over the plan's fixed category × model × seed order (`plan.ts`), so the shards are disjoint, together
 * are the whole plan, and differ in size by at most one cell. Every worker plans the same cells from the
 * same arguments, so no coordination is needed beyond passing each its index.
 *
 * @module
 */
import { UsageError } from "../core/errors.ts";

/** What a worker runs. */
export type CellSelection =
  | { kind: "all" }
  /** Shard `index` (0-based) of `count`; `source` says where it came from, for messages. */
  | { kind: "shard"; index: number; count: number; source: string }
  | { kind: "cells"; ids: string[] };

/** The environment variables a selection may come from (a plain object, so tests pass their own). */
export type ShardEnvironment = Record<string, string | undefined>;

/** Kubernetes Indexed Job: the pod's index (set by Kubernetes) and the completions (set in the manifest). */
export const KUBERNETES_ENV = ["JOB_COMPLETION_INDEX", "JOB_COMPLETIONS"] as const;
/** Slurm job array: the task's id, the number of tasks, the lowest id and the step between ids. */
export const SLURM_ENV = [
  "SLURM_ARRAY_TASK_ID",
  "SLURM_ARRAY_TASK_COUNT",
  "SLURM_ARRAY_TASK_MIN",
  "SLURM_ARRAY_TASK_STEP",
] as const;

/** Every variable {@linkcode selectionFromEnv} reads (a CLI reads these, and only these, from the environment). */
export const SHARD_ENV_NAMES: readonly string[] = [...KUBERNETES_ENV, ...SLURM_ENV];

function integerOf(name: string, raw: string, min: number): number {
  const value = Number(raw);
  if (raw.trim() === "" || !Number.isInteger(value) || value < min) {
    throw new UsageError(`${name}: expected an integer ≥ ${min}, got '${raw}'`);
  }
  return value;
}

function shardOf(index: number, count: number, source: string): CellSelection {
  if (index >= count) {
    throw new UsageError(
      `${source}: shard index ${index} is not below the shard count ${count} (indices count from 0: ` +
        `0..${count - 1})`,
    );
  }
  return { kind: "shard", index, count, source };
}

/**
 * Parses `--shard I/N` (I from 0 to N − 1).
 *
 * @example
 * ```ts
 * parseShard("1/3"); // { kind: "shard", index: 1, count: 3, source: "--shard 1/3" }
 * ```
 */
export function parseShard(text: string): CellSelection {
  const match = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!match) {
    throw new UsageError(`--shard: expected I/N with 0 ≤ I < N (e.g. 0/4), got '${text}'`);
  }
  const source = `--shard ${text.trim()}`;
  return shardOf(integerOf("--shard I", match[1], 0), integerOf("--shard N", match[2], 1), source);
}

function kubernetesShard(env: ShardEnvironment): CellSelection {
  const rawIndex = env.JOB_COMPLETION_INDEX!;
  const rawCount = env.JOB_COMPLETIONS;
  if (rawCount === undefined) {
    throw new UsageError(
      "JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but JOB_COMPLETIONS is not: set it in the " +
        "container's env to the Job's spec.completions, or pass --shard I/N",
    );
  }
  const index = integerOf("JOB_COMPLETION_INDEX", rawIndex, 0);
  const count = integerOf("JOB_COMPLETIONS", rawCount, 1);
  return shardOf(index, count, `JOB_COMPLETION_INDEX=${rawIndex} of JOB_COMPLETIONS=${rawCount}`);
}

function slurmShard(env: ShardEnvironment): CellSelection {
  const rawId = env.SLURM_ARRAY_TASK_ID!;
  const rawCount = env.SLURM_ARRAY_TASK_COUNT;
  if (rawCount === undefined) {
    throw new UsageError(
      "SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm sets both for job arrays); " +
        "pass --shard I/N instead",
    );
  }
  const id = integerOf("SLURM_ARRAY_TASK_ID", rawId, 0);
  const count = integerOf("SLURM_ARRAY_TASK_COUNT", rawCount, 1);
  // `--array=1-8` numbers tasks from 1, `--array=0-30:10` in steps of 10: the shard index is the task's
  // position in the array, (id − min) / step.
  const min = integerOf("SLURM_ARRAY_TASK_MIN", env.SLURM_ARRAY_TASK_MIN ?? "0", 0);
  const step = integerOf("SLURM_ARRAY_TASK_STEP", env.SLURM_ARRAY_TASK_STEP ?? "1", 1);
  const offset = id - min;
  const source = `SLURM_ARRAY_TASK_ID=${rawId} of SLURM_ARRAY_TASK_COUNT=${rawCount}` +
    (min !== 0 || step !== 1 ? ` (min ${min}, step ${step})` : "");
  if (offset < 0 || offset % step !== 0 || offset / step >= count) {
    throw new UsageError(
      `${source}: the task is not at a position 0..${count - 1} of a regular array; use a contiguous ` +
        "array such as --array=0-N (or MIN-MAX:STEP), not a list like --array=1,5,9",
    );
  }
  return shardOf(offset / step, count, source);
}

/**
 * The shard an engine assigned through the environment, or null when none did. Kubernetes and Slurm
 * variables together are refused (which one is meant is unclear).
 *
 * @example
 * ```ts
 * selectionFromEnv({ JOB_COMPLETION_INDEX: "2", JOB_COMPLETIONS: "5" }); // shard 2 of 5
 * ```
 */
export function selectionFromEnv(env: ShardEnvironment): CellSelection | null {
  const kubernetes = env.JOB_COMPLETION_INDEX !== undefined;
  const slurm = env.SLURM_ARRAY_TASK_ID !== undefined;
  if (kubernetes && slurm) {
    throw new UsageError(
      "both JOB_COMPLETION_INDEX (Kubernetes) and SLURM_ARRAY_TASK_ID (Slurm) are set; pass --shard I/N " +
        "to say which shard this worker runs",
    );
  }
  if (kubernetes) return kubernetesShard(env);
  if (slurm) return slurmShard(env);
  return null;
}

/**
 * The selection of a worker: `--shard` or `--cell` when given (they are exclusive), else what the
 * environment says, else every cell.
 *
 * @example
 * ```ts
 * resolveSelection({ shard: undefined, cells: [] }, Deno.env.toObject());
 * ```
 */
export function resolveSelection(
  flags: { shard?: string; cells: string[] },
  env: ShardEnvironment,
): CellSelection {
  if (flags.shard !== undefined && flags.cells.length > 0) {
    throw new UsageError("--shard and --cell are exclusive: run a shard of the plan, or the named cells");
  }
  if (flags.shard !== undefined) return parseShard(flags.shard);
  if (flags.cells.length > 0) return { kind: "cells", ids: [...new Set(flags.cells)] };
  return selectionFromEnv(env) ?? { kind: "all" };
}

/**
 * The cells of `cells` (a whole plan, in plan order) that a selection runs, in plan order. A `--cell` id
 * that is not in the plan is a usage error listing the plan's ids.
 *
 * @example
 * ```ts
 * selectCells(plan, { kind: "shard", index: 0, count: 2, source: "--shard 0/2" }); // cells 0, 2, 4, …
 * ```
 */
export function selectCells<T extends { cellId: string }>(cells: T[], selection: CellSelection): T[] {
  switch (selection.kind) {
    case "all":
      return cells;
    case "shard":
      return cells.filter((_, position) => position % selection.count === selection.index);
    case "cells": {
      const known = new Set(cells.map((c) => c.cellId));
      const unknown = selection.ids.filter((id) => !known.has(id));
      if (unknown.length > 0) {
        const listed = cells.slice(0, 12).map((c) => c.cellId).join(", ");
        throw new UsageError(
          `--cell ${unknown.join(", ")}: not a cell of this plan (same dataset, models, seeds and ` +
            `categories as the arguments given); its cells are ${listed}${cells.length > 12 ? ", …" : ""} ` +
            "(deno task plan with the same arguments lists them all)",
        );
      }
      const wanted = new Set(selection.ids);
      return cells.filter((c) => wanted.has(c.cellId));
    }
  }
}

/**
 * One line for logs: which cells of how many a selection runs.
 *
 * @example
 * ```ts
 * describeSelection(selection, 3, 9); // "shard 1/3 (--shard 1/3): 3 of 9 cells"
 * ```
 */
export function describeSelection(selection: CellSelection, selected: number, total: number): string {
  const what = selection.kind === "shard"
    ? `shard ${selection.index}/${selection.count} (${selection.source})`
    : selection.kind === "cells"
    ? `--cell ${selection.ids.join(", ")}`
    : "every cell";
  return `${what}: ${selected} of ${total} cell${total === 1 ? "" : "s"}`;
}
