/**
 * `reproduce` subcommand: download/verify a dataset, then for every category × model × seed train,
 * score, evaluate and write a run record; finally print a summary and the tables in the paper's layout.
 * With no arguments it runs the offline default: the generated `synthetic` dataset with a small config.
 * With `--shard`, `--cell` or a batch engine's array index it runs only those cells and leaves the tables
 * to `report`, which merges the records of every worker.
 *
 * @module
 */
import { join } from "node:path";
import { DATASET_NAMES } from "../core/datasets.ts";
import type { PipelineDeps } from "../pipeline/deps.ts";
import { renderCellSummary, type ReproduceOptions, runReproduce } from "../pipeline/runner.ts";
import { SHARD_ENV_NAMES, type ShardEnvironment } from "../pipeline/shard.ts";
import { writeReport } from "../report/write_report.ts";
import { defineCommand } from "./command.ts";
import { listenForInterrupt } from "./interrupt.ts";
import { REPRODUCE_FLAGS, reproduceOptionsFromFlags } from "./reproduce_flags.ts";

export { REPRODUCE_FLAGS, reproduceOptionsFromFlags };

/** The batch engine's shard variables of this process (only those; nothing else is read). */
export function shardEnvironment(): ShardEnvironment {
  return Object.fromEntries(SHARD_ENV_NAMES.map((name) => [name, Deno.env.get(name)]));
}

/** Runs a reproduction with the given deps and prints progress, summary and tables; returns the exit code. */
export async function runReproduceCommand(options: ReproduceOptions, deps: PipelineDeps): Promise<number> {
  const interrupt = listenForInterrupt("reproduce");
  const started = performance.now();
  try {
    const result = await runReproduce({ ...options, signal: interrupt.signal }, deps);
    console.error("\n" + renderCellSummary(result.outcomes));
    const minutes = () => ((performance.now() - started) / 60000).toFixed(1);
    if ((options.selection?.kind ?? "all") !== "all") {
      // A worker's share only: tables of part of a plan would be overwritten by every other worker.
      const runsDir = join(options.outDir, "runs");
      console.error(
        `reproduce: ${result.outcomes.length} of ${result.plannedCells} cell(s) in ${minutes()} min; ` +
          `records in ${runsDir}. When every worker is done: deno task report --runs ${runsDir} ` +
          "(one --runs per worker's folder when they do not share one)",
      );
    } else {
      const report = await writeReport({
        runsDir: join(options.outDir, "runs"),
        outDir: options.outDir,
        datasets: [options.dataset],
      });
      for (const w of report.warnings) console.error(`warning: ${w}`);
      console.log(report.markdown);
      console.error(
        `reproduce: ${result.outcomes.length} cell(s) in ${minutes()} min; tables in ${
          report.files.join(", ")
        }`,
      );
    }
    if (result.interrupted) {
      console.error("reproduce: interrupted; run the same command again to continue where it stopped");
      return 130;
    }
    return result.outcomes.some((o) => o.status === "aborted") ? 1 : 0;
  } finally {
    interrupt.dispose();
  }
}

/** The `reproduce` subcommand. */
export const command = defineCommand({
  name: "reproduce",
  summary: "Download, train, score and evaluate; print tables in the paper's layout",
  usage:
    "[DATASET] [--model M|all] [--config NAME] [--seeds N | --seed S] [--categories a,b] [--backend B] " +
    "[--data-dir DIR] [--out DIR] [--restart] [--mirror URL]... [--shard I/N | --cell ID...]",
  description: `DATASET is one of ${DATASET_NAMES.join(", ")} (default synthetic: generated offline, ` +
    "finishes in minutes on 2 CPU cores). Run records go to <out>/runs/<run-id>/ (result.json, " +
    "events.jsonl, panels/); completed cells are skipped on a rerun, and an interrupted cell continues " +
    "from its checkpoint (--restart trains from scratch).",
  flags: REPRODUCE_FLAGS,
  positionals: { min: 0, max: 1, names: "DATASET" },
  async run(flags, positionals) {
    const options = reproduceOptionsFromFlags(flags, positionals, shardEnvironment());
    const { loadRealDeps } = await import("../pipeline/real_deps.ts");
    return await runReproduceCommand(options, await loadRealDeps());
  },
});
