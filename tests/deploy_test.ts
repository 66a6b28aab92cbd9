/**
 * The examples under deploy/ are parsed and their commands checked: every `deno task X` they run is a task
 * of deno.json whose flags the command accepts, the GitHub Actions matrix comes from `plan` with the same
 * arguments the workers get, and the array sizes and environment variables of the Kubernetes Indexed Job
 * and the Slurm array cover the plan's cells exactly once.
 */
import assert from "node:assert/strict";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml, parseAllDocuments } from "yaml";
import { COMMANDS } from "../src/cli/commands.ts";
import { type PlanEntry, planFromArgs } from "../src/cli/plan.ts";
import { selectCells, selectionFromEnv, type ShardEnvironment } from "../src/pipeline/shard.ts";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const read = (path: string) => Deno.readTextFile(join(ROOT, path));

/** The Deno version the project pins (`.ci/run` runs `npx -y deno@X`). */
async function pinnedDeno(): Promise<string> {
  const match = /deno@(\d+\.\d+\.\d+)/.exec(await read(".ci/run"));
  assert.ok(match, ".ci/run names the pinned Deno");
  return match[1];
}

/** Splits a shell command line into words: whitespace-separated, quotes removed (no expansion). */
function shellWords(line: string): string[] {
  const words: string[] = [];
  for (const m of line.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)) words.push(m[1] ?? m[2] ?? m[3]);
  return words;
}

/**
 * Checks `deno task <name> <args>`: the task exists in deno.json, runs `main.ts <command>`, and that
 * command parses `args` without a usage error. Returns the parsed flags and positionals.
 */
async function checkDenoTask(
  words: string[],
): Promise<{ command: string; flags: Record<string, unknown>; positionals: string[] }> {
  const [name, ...args] = words;
  const tasks = JSON.parse(await read("deno.json")).tasks as Record<string, string>;
  assert.ok(name in tasks, `deno task ${name}: no such task in deno.json`);
  const match = /main\.ts (\S+)$/.exec(tasks[name]);
  assert.ok(match, `task ${name} runs main.ts <command>`);
  const entry = COMMANDS.find((c) => c.name === match[1]);
  assert.ok(entry, `main.ts ${match[1]} is a command`);
  const command = await entry.load();
  const { flags, positionals } = command.parse(args); // throws UsageError on a flag it does not accept
  return { command: entry.name, flags, positionals };
}

/** Every `deno task …` command in a shell script (up to a `)`, `>`, `|`, `;` or `&&`), comments left out. */
function denoTaskLines(script: string): string[] {
  const code = script.split("\n").filter((line) => !line.trimStart().startsWith("#")).join("\n");
  return [...code.matchAll(/deno task ([^\n)>|;&]*)/g)].map((m) => m[1].trim());
}

/** The cell ids of the plan of some reproduce arguments. */
function planIds(args: string[]): string[] {
  return (planFromArgs(args).include as PlanEntry[]).map((e) => e.cell);
}

/** The cells every worker of an array runs, given each worker's environment: each cell once, in total. */
function assertCoversPlanOnce(args: string[], envs: ShardEnvironment[]): void {
  const cells = planIds(args).map((cellId) => ({ cellId }));
  const ran = envs.flatMap((env) => selectCells(cells, selectionFromEnv(env)!).map((c) => c.cellId));
  assert.deepEqual([...ran].sort(), cells.map((c) => c.cellId).sort());
}

// deno-lint-ignore no-explicit-any
type Yaml = any;

Deno.test("GitHub Actions: plan → matrix of cells → artifacts → report merges them", async () => {
  const workflow: Yaml = parseYaml(await read("deploy/github/sharded-reproduce.yml"));
  const reproduceArgs = shellWords(workflow.env.REPRODUCE_ARGS);
  const { plan, cell, report } = workflow.jobs;
  const runs = (job: Yaml) =>
    job.steps.filter((s: Yaml) => s.run).map((s: Yaml) => s.run as string).join("\n");
  const expand = (line: string, cellId: string) =>
    line.replaceAll('"${{ matrix.cell }}"', cellId).replaceAll("${{ matrix.cell }}", cellId);

  // plan: prints the matrix into the job's output with the workflow's reproduce arguments.
  const planStep = plan.steps.find((s: Yaml) => s.id === "plan");
  assert.equal(plan.outputs.matrix, "${{ steps.plan.outputs.matrix }}");
  assert.match(planStep.run, /^echo "matrix=\$\(deno task plan \$REPRODUCE_ARGS\)" >> "\$GITHUB_OUTPUT"$/);
  const planned = planFromArgs(reproduceArgs).include as PlanEntry[];
  assert.ok(planned.length > 1 && planned.length <= 256, "a GitHub matrix holds at most 256 jobs");

  // cell: one job per matrix entry, running reproduce with the same arguments and its cell id.
  assert.deepEqual(cell.needs, "plan");
  assert.equal(cell.strategy.matrix, "${{ fromJSON(needs.plan.outputs.matrix) }}");
  assert.equal(cell.strategy["fail-fast"], false);
  const [reproduceLine] = denoTaskLines(runs(cell));
  assert.equal(reproduceLine, 'reproduce $REPRODUCE_ARGS --cell "${{ matrix.cell }}"');
  for (const entry of planned) {
    const words = shellWords(
      expand(reproduceLine.replace("$REPRODUCE_ARGS", workflow.env.REPRODUCE_ARGS), entry.cell),
    );
    const { flags } = await checkDenoTask(words);
    assert.deepEqual(flags.cell, [entry.cell]);
  }
  // every matrix.X the workflow uses is a field of the plan's entries
  const used = [...JSON.stringify(workflow).matchAll(/matrix\.(\w+)/g)].map((m) => m[1]);
  for (const field of used) assert.ok(field in planned[0], `matrix.${field} is not a plan field`);
  const { flags } = await checkDenoTask(["reproduce", ...reproduceArgs]);
  const upload = cell.steps.find((s: Yaml) => s.uses?.startsWith("actions/upload-artifact@"));
  assert.equal(upload.with.path, `${flags.out}/runs/`, "the artifact is the worker's runs folder");
  assert.equal(upload.with.name, "runs-${{ matrix.cell }}");
  assert.equal(upload.if, "always()");

  // report: downloads every runs-* artifact into its own folder and passes each as --runs.
  assert.deepEqual(report.needs, "cell");
  const download = report.steps.find((s: Yaml) => s.uses?.startsWith("actions/download-artifact@"));
  assert.equal(download.with.pattern, "runs-*");
  assert.equal(download.with["merge-multiple"], undefined, "merged artifacts would hide conflicts");
  const merge = runs(report);
  assert.match(
    merge,
    new RegExp(`for dir in ${download.with.path}/\\*/; do args\\+=\\(--runs "\\$dir"\\); done`),
  );
  const [reportLine] = denoTaskLines(merge);
  const parsed = await checkDenoTask(
    shellWords(
      reportLine.replace(
        '"${args[@]}"',
        `--runs artifacts/runs-${planned[0].cell}/ --runs artifacts/runs-${planned[1].cell}/`,
      ),
    ),
  );
  assert.equal(parsed.command, "report");
  assert.equal((parsed.flags.runs as string[]).length, 2);

  const pinned = await pinnedDeno();
  for (const job of [plan, cell, report]) {
    const setup = job.steps.find((s: Yaml) => s.uses?.startsWith("denoland/setup-deno@"));
    assert.equal(String(setup.with["deno-version"]), pinned);
  }
});

Deno.test("Kubernetes: an Indexed Job whose completions, JOB_COMPLETIONS and plan agree, on one shared volume", async () => {
  const docs = parseAllDocuments(await read("deploy/kubernetes/reproduce-job.yaml")).map((d) =>
    d.toJS() as Yaml
  );
  const claim = docs.find((d) => d.kind === "PersistentVolumeClaim");
  const job = docs.find((d) => d.kind === "Job");
  assert.ok(claim.spec.accessModes.includes("ReadWriteMany"), "every pod mounts the volume");
  assert.equal(job.spec.completionMode, "Indexed");
  const pod = job.spec.template.spec;
  const [container] = pod.containers;
  assert.deepEqual(container.command.slice(0, 2), ["deno", "task"]);
  const args = container.command.slice(3);
  const { command, flags } = await checkDenoTask(container.command.slice(2));
  assert.equal(command, "reproduce");
  assert.equal(flags.shard, undefined, "the shard comes from JOB_COMPLETION_INDEX");

  const completions = job.spec.completions;
  const env = Object.fromEntries(container.env.map((e: Yaml) => [e.name, e.value]));
  assert.equal(env.JOB_COMPLETIONS, String(completions));
  assert.equal(completions, planIds(args).length, "one pod per cell");
  assertCoversPlanOnce(
    args,
    Array.from(
      { length: completions },
      (_, i) => ({ JOB_COMPLETION_INDEX: String(i), JOB_COMPLETIONS: env.JOB_COMPLETIONS }),
    ),
  );

  const [mount] = container.volumeMounts;
  const volume = pod.volumes.find((v: Yaml) => v.name === mount.name);
  assert.equal(volume.persistentVolumeClaim.claimName, claim.metadata.name);
  for (const dir of [flags.out, flags["data-dir"]] as string[]) {
    assert.ok(dir.startsWith(mount.mountPath + "/"), `${dir} is on the shared volume`);
  }

  const reportJob = parseYaml(await read("deploy/kubernetes/report-job.yaml"));
  const reportPod = reportJob.spec.template.spec;
  const reportRun = await checkDenoTask(reportPod.containers[0].command.slice(2));
  assert.equal(reportRun.command, "report");
  assert.deepEqual(reportRun.flags.runs, [`${flags.out}/runs`]);
  assert.equal(reportPod.volumes[0].persistentVolumeClaim.claimName, claim.metadata.name);
  assert.equal(reportPod.containers[0].volumeMounts[0].mountPath, mount.mountPath);
  assert.equal(reportPod.containers[0].image, container.image);
});

Deno.test("Dockerfile: installs the pinned Deno and the locked npm packages, runs deno task", async () => {
  const dockerfile = await read("deploy/docker/Dockerfile");
  assert.match(
    dockerfile,
    new RegExp(`^ARG DENO_VERSION=${(await pinnedDeno()).replaceAll(".", "\\.")}$`, "m"),
  );
  assert.match(dockerfile, /releases\/download\/v\$\{DENO_VERSION\}\/deno-\$\{target\}\.zip/);
  assert.match(dockerfile, /deno install --frozen-lockfile/);
  assert.match(dockerfile, /^ENTRYPOINT \["deno", "task"\]$/m);
  const tag = /docker build -f deploy\/docker\/Dockerfile -t (\S+) \./.exec(dockerfile)?.[1];
  const job = parseAllDocuments(await read("deploy/kubernetes/reproduce-job.yaml")).map((d) =>
    d.toJS() as Yaml
  )
    .find((d) => d.kind === "Job");
  assert.equal(
    job.spec.template.spec.containers[0].image,
    tag,
    "the manifest runs the image the Dockerfile builds",
  );
});

/** `#SBATCH --array=MIN-MAX[:STEP][%LIMIT]` as the ids Slurm gives its tasks. */
function slurmArrayIds(script: string): number[] {
  const match = /^#SBATCH --array=(\d+)-(\d+)(?::(\d+))?(?:%\d+)?$/m.exec(script);
  assert.ok(match, "a MIN-MAX[:STEP] array");
  const [min, max, step] = [Number(match[1]), Number(match[2]), Number(match[3] ?? 1)];
  return Array.from({ length: Math.floor((max - min) / step) + 1 }, (_, i) => min + i * step);
}

Deno.test("Slurm: the array has one task per cell, and its task variables cover the plan once", async () => {
  const script = await read("deploy/slurm/reproduce-array.sbatch");
  const lines = denoTaskLines(script);
  assert.equal(lines.length, 1);
  const words = shellWords(lines[0]);
  const { command, flags } = await checkDenoTask(words);
  assert.equal(command, "reproduce");
  const args = words.slice(1);
  const ids = slurmArrayIds(script);
  assert.equal(ids.length, planIds(args).length, "one array task per cell");
  const base = { SLURM_ARRAY_TASK_COUNT: String(ids.length), SLURM_ARRAY_TASK_MIN: String(ids[0]) };
  assertCoversPlanOnce(args, ids.map((id) => ({ ...base, SLURM_ARRAY_TASK_ID: String(id) })));
  // The same arrangement numbered from 1 (--array=1-N) covers the plan just as well.
  assertCoversPlanOnce(
    args,
    ids.map((_, i) => ({ ...base, SLURM_ARRAY_TASK_MIN: "1", SLURM_ARRAY_TASK_ID: String(i + 1) })),
  );

  const report = await read("deploy/slurm/report.sbatch");
  const [reportLine] = denoTaskLines(report);
  const reportRun = await checkDenoTask(shellWords(reportLine));
  assert.equal(reportRun.command, "report");
  assert.deepEqual(reportRun.flags.runs, [`${flags.out}/runs`], "report reads what the array wrote");
  assert.match(script, /sbatch --dependency=afterany:\$jid deploy\/slurm\/report\.sbatch/);
});
