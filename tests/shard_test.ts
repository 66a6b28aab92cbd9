/**
 * Cell ids, the plan command, and which cells a worker runs: `--shard I/N`, `--cell ID`, and the array
 * indices of Kubernetes Indexed Jobs and Slurm job arrays.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../src/core/errors.ts";
import { cellIdOf, enumerateCells, knownCategories, planCells } from "../src/pipeline/plan.ts";
import {
  type CellSelection,
  parseShard,
  resolveSelection,
  selectCells,
  selectionFromEnv,
} from "../src/pipeline/shard.ts";
import { type ReproduceOptions, runReproduce } from "../src/pipeline/runner.ts";
import { type PlanEntry, planFromArgs, type ShardEntry } from "../src/cli/plan.ts";
import { command as reproduceCommand, runReproduceCommand } from "../src/cli/reproduce.ts";
import { reproduceOptionsFromFlags } from "../src/cli/reproduce_flags.ts";
import { pathExists } from "../src/util/fs.ts";
import { main } from "../main.ts";
import { fakeDeps, reproduceOptions } from "./fakes/pipeline_fakes.ts";

const usage = (pattern: RegExp) => (e: unknown) => e instanceof UsageError && pattern.test(e.message);

function shard(index: number, count: number): CellSelection {
  return { kind: "shard", index, count, source: "test" };
}

Deno.test("a cell id is dataset.category.model.seedS and does not depend on data or config", () => {
  assert.equal(
    cellIdOf({ dataset: "mvtec", category: "metal_nut", model: "ae-mse", seed: 2 }),
    "mvtec.metal_nut.ae-mse.seed2",
  );
  const request = { dataset: "synthetic", models: ["vtadl"], configName: "smoke", seeds: [0, 1] } as const;
  const a = planCells({ ...request, models: ["vtadl"], seeds: [0, 1] }, {
    contentDigest: "a".repeat(64),
    categories: ["disc"],
  });
  const b = planCells({ ...request, models: ["vtadl"], seeds: [0, 1], configOverrides: { epochs: "7" } }, {
    contentDigest: "b".repeat(64),
    categories: ["disc"],
  });
  assert.deepEqual(a.map((c) => c.cellId), ["synthetic.disc.vtadl.seed0", "synthetic.disc.vtadl.seed1"]);
  assert.deepEqual(b.map((c) => c.cellId), a.map((c) => c.cellId));
  assert.notEqual(a[0].cellKey, b[0].cellKey, "the cell key still tells the runs apart");
});

Deno.test("planCells and enumerateCells list the same cells in the same order", () => {
  const request = {
    dataset: "synthetic",
    models: ["vtadl", "ae-mse"],
    configName: "smoke",
    seeds: [0, 3],
  } as const;
  const categories = knownCategories("synthetic");
  const planned = planCells({ ...request, models: [...request.models], seeds: [...request.seeds] }, {
    contentDigest: "c".repeat(64),
    categories,
  });
  const listed = enumerateCells(
    { ...request, models: [...request.models], seeds: [...request.seeds] },
    categories,
  );
  assert.equal(planned.length, 12);
  assert.deepEqual(planned.map((c) => c.cellId), listed.map((c) => c.cellId));
  assert.equal(new Set(listed.map((c) => c.cellId)).size, 12, "ids are unique within a plan");
});

Deno.test("shards are disjoint, cover the plan, and differ in size by at most one", () => {
  const cells = Array.from({ length: 11 }, (_, i) => ({ cellId: `c${i}` }));
  for (const count of [1, 2, 3, 4, 11, 15]) {
    const shards = Array.from({ length: count }, (_, i) => selectCells(cells, shard(i, count)));
    const ids = shards.flat().map((c) => c.cellId);
    assert.deepEqual([...ids].sort(), cells.map((c) => c.cellId).sort(), `N=${count}`);
    assert.equal(new Set(ids).size, cells.length, `N=${count}: no cell in two shards`);
    const sizes = shards.map((s) => s.length);
    assert.ok(Math.max(...sizes) - Math.min(...sizes) <= 1, `N=${count}: ${sizes}`);
  }
  assert.deepEqual(selectCells(cells, shard(1, 4)).map((c) => c.cellId), ["c1", "c5", "c9"]);
});

Deno.test("--shard I/N parses 0-based indices and rejects bad values with the fix", () => {
  assert.deepEqual(parseShard("2/5"), { kind: "shard", index: 2, count: 5, source: "--shard 2/5" });
  assert.throws(() => parseShard("5/5"), usage(/shard index 5 is not below the shard count 5.*0\.\.4/));
  assert.throws(() => parseShard("1/0"), usage(/--shard N: expected an integer ≥ 1/));
  for (const bad of ["1", "a/3", "-1/3", "1/3/4", "1.5/3", ""]) {
    assert.throws(() => parseShard(bad), usage(/--shard: expected I\/N/), bad);
  }
});

Deno.test("--shard and --cell are exclusive; either overrides the environment", () => {
  const env = { JOB_COMPLETION_INDEX: "1", JOB_COMPLETIONS: "3" };
  assert.throws(() => resolveSelection({ shard: "0/2", cells: ["x"] }, {}), usage(/exclusive/));
  assert.deepEqual(resolveSelection({ shard: "0/2", cells: [] }, env), parseShard("0/2"));
  assert.deepEqual(resolveSelection({ cells: ["x", "y", "x"] }, env), { kind: "cells", ids: ["x", "y"] });
  assert.deepEqual(resolveSelection({ cells: [] }, {}), { kind: "all" });
  assert.deepEqual(resolveSelection({ cells: [] }, env), {
    kind: "shard",
    index: 1,
    count: 3,
    source: "JOB_COMPLETION_INDEX=1 of JOB_COMPLETIONS=3",
  });
});

Deno.test("Kubernetes Indexed Job: JOB_COMPLETION_INDEX of JOB_COMPLETIONS, both required and checked", () => {
  assert.equal(selectionFromEnv({}), null);
  const s = selectionFromEnv({ JOB_COMPLETION_INDEX: "0", JOB_COMPLETIONS: "4" });
  assert.deepEqual(s && s.kind === "shard" ? [s.index, s.count] : null, [0, 4]);
  assert.throws(
    () => selectionFromEnv({ JOB_COMPLETION_INDEX: "0" }),
    usage(/JOB_COMPLETIONS is not.*spec\.completions/),
  );
  assert.throws(
    () => selectionFromEnv({ JOB_COMPLETION_INDEX: "4", JOB_COMPLETIONS: "4" }),
    usage(/JOB_COMPLETION_INDEX=4 of JOB_COMPLETIONS=4: shard index 4 is not below/),
  );
  assert.throws(
    () => selectionFromEnv({ JOB_COMPLETION_INDEX: "x", JOB_COMPLETIONS: "4" }),
    usage(/JOB_COMPLETION_INDEX: expected an integer ≥ 0, got 'x'/),
  );
});

Deno.test("Slurm arrays: the task's position (id − min) / step, not its raw id", () => {
  const at = (env: Record<string, string>) => {
    const s = selectionFromEnv(env);
    return s?.kind === "shard" ? [s.index, s.count] : null;
  };
  assert.deepEqual(at({ SLURM_ARRAY_TASK_ID: "3", SLURM_ARRAY_TASK_COUNT: "8", SLURM_ARRAY_TASK_MIN: "0" }), [
    3,
    8,
  ]);
  // --array=1-8: ids 1..8 are positions 0..7.
  assert.deepEqual(at({ SLURM_ARRAY_TASK_ID: "8", SLURM_ARRAY_TASK_COUNT: "8", SLURM_ARRAY_TASK_MIN: "1" }), [
    7,
    8,
  ]);
  // --array=100-130:10: ids 100, 110, 120, 130.
  assert.deepEqual(
    at({
      SLURM_ARRAY_TASK_ID: "120",
      SLURM_ARRAY_TASK_COUNT: "4",
      SLURM_ARRAY_TASK_MIN: "100",
      SLURM_ARRAY_TASK_STEP: "10",
    }),
    [2, 4],
  );
  // --array=1,5,9 (a list): count 3, but id 9 is not position 2 of a regular array.
  assert.throws(
    () =>
      selectionFromEnv({ SLURM_ARRAY_TASK_ID: "9", SLURM_ARRAY_TASK_COUNT: "3", SLURM_ARRAY_TASK_MIN: "1" }),
    usage(/not at a position 0\.\.2 of a regular array.*contiguous/),
  );
  assert.throws(() => selectionFromEnv({ SLURM_ARRAY_TASK_ID: "2" }), usage(/SLURM_ARRAY_TASK_COUNT is not/));
  assert.throws(
    () =>
      selectionFromEnv({ SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "2", JOB_COMPLETION_INDEX: "0" }),
    usage(/both JOB_COMPLETION_INDEX .* and SLURM_ARRAY_TASK_ID/),
  );
});

Deno.test("--cell with an id not in the plan is a usage error that lists the plan's ids", () => {
  const cells = enumerateCells({ dataset: "synthetic", models: ["vtadl"], seeds: [0] }, ["disc", "weave"]);
  assert.throws(
    () => selectCells(cells, { kind: "cells", ids: ["synthetic.disc.vtadl.seed9"] }),
    usage(
      /--cell synthetic\.disc\.vtadl\.seed9: not a cell of this plan.*synthetic\.disc\.vtadl\.seed0, synthetic\.weave\.vtadl\.seed0/,
    ),
  );
  assert.deepEqual(
    selectCells(cells, { kind: "cells", ids: ["synthetic.weave.vtadl.seed0", "synthetic.disc.vtadl.seed0"] })
      .map((c) => c.cellId),
    ["synthetic.disc.vtadl.seed0", "synthetic.weave.vtadl.seed0"],
    "plan order, whatever the order given",
  );
});

Deno.test("plan prints a GitHub Actions matrix of the cells reproduce runs with the same arguments", () => {
  const plan = planFromArgs(["synthetic", "--seeds", "2", "--model", "all"]);
  const include = plan.include as PlanEntry[];
  assert.deepEqual(
    Object.keys(plan),
    ["include"],
    "only 'include': any other key would become a matrix axis",
  );
  assert.equal(include.length, 3 * 3 * 2);
  assert.deepEqual(include[0], {
    cell: "synthetic.disc.vtadl.seed0",
    dataset: "synthetic",
    category: "disc",
    model: "vtadl",
    seed: 0,
  });
  // The same arguments parsed by reproduce select exactly these cells, one by one.
  const { flags, positionals } = reproduceCommand.parse(["synthetic", "--seeds", "2", "--model", "all"]);
  const options = reproduceOptionsFromFlags(flags, positionals);
  const planned = planCells(options, {
    contentDigest: "d".repeat(64),
    categories: knownCategories("synthetic"),
  });
  assert.deepEqual(include.map((e) => e.cell), planned.map((c) => c.cellId));
  // mvtec: the registry's categories sorted as installed folders are, not in the paper's row order.
  const mvtec = planFromArgs(["mvtec"]).include as PlanEntry[];
  assert.deepEqual(mvtec.slice(0, 3).map((e) => e.category), ["bottle", "cable", "capsule"]);
  assert.equal(mvtec.length, 15);
});

Deno.test("plan --shards N groups the cells as reproduce --shard I/N would run them", () => {
  const all = (planFromArgs(["synthetic"]).include as PlanEntry[]).map((e) => e.cell);
  const shards = planFromArgs(["synthetic", "--shards", "4"]).include as ShardEntry[];
  assert.deepEqual(shards.map((s) => s.shard), ["0/4", "1/4", "2/4", "3/4"]);
  for (const s of shards) {
    const one = (planFromArgs(["synthetic", "--shard", s.shard]).include as PlanEntry[]).map((e) => e.cell);
    assert.deepEqual(s.cells, one, s.shard);
  }
  assert.deepEqual(shards.flatMap((s) => s.cells).sort(), [...all].sort());
  const many = planFromArgs(["synthetic", "--model", "vtadl", "--shards", "5"]).include as ShardEntry[];
  assert.deepEqual(many.map((s) => s.shard), ["0/5", "1/5", "2/5"], "empty shards are left out");
});

Deno.test("plan: bad arguments are usage errors (exit 2), as in reproduce", async () => {
  const errors: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = (...a: unknown[]) => errors.push(a.join(" "));
  try {
    assert.equal(await main(["plan", "synthetic", "--categories", "nope"]), 2);
    assert.equal(await main(["plan", "--set", "epochs=x"]), 2);
    assert.equal(await main(["plan", "--shard", "2"]), 2);
    assert.equal(await main(["plan", "--cell", "synthetic.disc.vtadl.seed7"]), 2);
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.match(errors[0], /unknown synthetic category nope/);
  assert.match(errors[2], /--shard: expected I\/N/);
});

function options(outDir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return reproduceOptions(outDir, { models: ["vtadl", "ae-mse"], ...extra });
}

Deno.test("runReproduce with a selection trains only the selected cells; shards together train each cell once", async () => {
  const out = await Deno.makeTempDir();
  const fake = fakeDeps({ categories: ["alpha", "beta", "gamma"] });
  const trained: string[] = [];
  for (let i = 0; i < 2; i++) {
    const result = await runReproduce(options(out, { selection: shard(i, 2) }), fake.deps);
    assert.equal(result.plannedCells, 6);
    assert.equal(result.outcomes.length, 3);
    trained.push(...result.outcomes.filter((o) => o.status === "completed").map((o) => o.runId));
  }
  assert.equal(fake.calls.train.length, 6);
  assert.equal(new Set(trained).size, 6);
  const again = await runReproduce(options(out), fake.deps);
  assert.ok(again.outcomes.every((o) => o.status === "skipped"), "the whole plan is done: nothing reruns");
  assert.equal(fake.calls.train.length, 6);

  const picked = await runReproduce(
    options(await Deno.makeTempDir(), { selection: { kind: "cells", ids: ["synthetic.beta.ae-mse.seed0"] } }),
    fake.deps,
  );
  assert.deepEqual(picked.outcomes.map((o) => [o.category, o.model, o.status]), [[
    "beta",
    "ae-mse",
    "completed",
  ]]);
});

Deno.test("a sharded reproduce command leaves the tables to report and says how to merge", async () => {
  const out = await Deno.makeTempDir();
  const stderr: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = () => {};
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  try {
    const code = await runReproduceCommand(options(out, { selection: shard(0, 2) }), fakeDeps().deps);
    assert.equal(code, 0);
  } finally {
    console.log = log;
    console.error = error;
  }
  assert.equal(await pathExists(join(out, "tables")), false);
  assert.equal(await pathExists(join(out, "report.md")), false);
  assert.match(stderr.join("\n"), /2 of 4 cell\(s\) .*deno task report --runs/);
});

Deno.test("deno task plan runs with its task's permissions alone and prints only the JSON on stdout", async () => {
  const root = new URL("..", import.meta.url);
  const task: string = JSON.parse(await Deno.readTextFile(new URL("deno.json", root))).tasks.plan;
  const [deno, ...args] = task.split(" ");
  assert.equal(deno, "deno");
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [...args, "synthetic", "--model", "vtadl", "--shard", "1/2"],
    cwd: root,
  }).output();
  assert.equal(code, 0, new TextDecoder().decode(stderr));
  const printed = JSON.parse(new TextDecoder().decode(stdout));
  assert.deepEqual(printed.include.map((e: PlanEntry) => e.cell), ["synthetic.lattice.vtadl.seed0"]);
});
