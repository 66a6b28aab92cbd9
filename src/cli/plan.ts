/**
 * `plan` subcommand: prints the cells `reproduce` would run with the same arguments, as JSON, without
 * touching any data. The shape is a GitHub Actions matrix (`strategy.matrix: ${{ fromJSON(...) }}`):
 *
 * ```json
 * {"include":[{"cell":"synthetic.disc.vtadl.seed0","dataset":"synthetic","category":"disc","model":"vtadl","seed":0}, …]}
 * ```
 *
 * With `--shards N` it prints one entry per non-empty shard instead:
 * `{"include":[{"shard":"0/N","cells":["…", …]}, …]}`.
 *
 * @module
 */
import {
  chooseCategories,
  enumerateCells,
  knownCategories,
  resolveRequestConfigs,
} from "../pipeline/plan.ts";
import { selectCells } from "../pipeline/shard.ts";
import { defineCommand, numberFlag } from "./command.ts";
import { REPRODUCE_FLAGS, reproduceOptionsFromFlags } from "./reproduce_flags.ts";

/** One cell of a printed plan (one GitHub Actions matrix job). */
export interface PlanEntry {
  /** The cell id `reproduce --cell` takes. */
  cell: string;
  dataset: string;
  category: string;
  model: string;
  seed: number;
}

/** One shard of a printed plan (`--shards N`). */
export interface ShardEntry {
  /** What `reproduce --shard` takes: `I/N`. */
  shard: string;
  /** The ids of its cells. */
  cells: string[];
}

/** The printed plan: a GitHub Actions matrix. */
export interface PrintedPlan {
  include: PlanEntry[] | ShardEntry[];
}

/**
 * The plan of `reproduce` arguments: every cell (or the selected ones), or grouped into `shards` shards.
 *
 * @example
 * ```ts
 * const { include } = planFromArgs(["synthetic", "--model", "vtadl"]);
 * include.length; // 3: one cell per synthetic category
 * ```
 */
export function planFromArgs(argv: string[]): PrintedPlan {
  const { flags, positionals } = command.parse(argv);
  return buildPlan(flags, positionals);
}

function buildPlan(
  flags: ReturnType<typeof command.parse>["flags"],
  positionals: string[],
): PrintedPlan {
  // No environment: a plan lists the whole work unless --shard/--cell narrow it.
  const options = reproduceOptionsFromFlags(flags, positionals, {});
  resolveRequestConfigs(options); // a bad --config or --set fails here, as in reproduce
  const categories = chooseCategories(options.dataset, knownCategories(options.dataset), options.categories);
  const cells = selectCells(enumerateCells(options, categories), options.selection ?? { kind: "all" });
  if (flags.shards === undefined) {
    return {
      include: cells.map(({ cellId, dataset, category, model, seed }) => ({
        cell: cellId,
        dataset,
        category,
        model,
        seed,
      })),
    };
  }
  const count = flags.shards;
  const shards: ShardEntry[] = [];
  for (let index = 0; index < count; index++) {
    const ids = selectCells(cells, { kind: "shard", index, count, source: "--shards" }).map((c) => c.cellId);
    if (ids.length > 0) shards.push({ shard: `${index}/${count}`, cells: ids });
  }
  return { include: shards };
}

/** The `plan` subcommand. */
export const command = defineCommand({
  name: "plan",
  summary: "Print the cells reproduce would run, as JSON (a GitHub Actions matrix)",
  usage: "[reproduce arguments] [--shards N]",
  description: 'Takes the arguments of reproduce and prints {"include":[{"cell":ID,"dataset":…,' +
    '"category":…,"model":…,"seed":…},…]} on one line: the cells in plan order, with the ids ' +
    "reproduce --cell takes. No data is read or downloaded: categories come from the dataset's registry " +
    "(or --categories). --shards N prints one entry per shard instead: " +
    '{"include":[{"shard":"I/N","cells":[ID,…]},…]}, for reproduce --shard I/N.',
  flags: {
    ...REPRODUCE_FLAGS,
    shards: numberFlag({
      description: "Group the cells into N shards (empty shards are left out).",
      integer: true,
      min: 1,
      max: 100000,
      valueName: "N",
    }),
  },
  positionals: { min: 0, max: 1, names: "DATASET" },
  run(flags, positionals) {
    console.log(JSON.stringify(buildPlan(flags, positionals)));
    return Promise.resolve(0);
  },
});
