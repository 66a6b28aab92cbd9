/**
 * The GitHub Actions workflows of `.github/workflows/`: each parses as YAML, has jobs with steps, and
 * every `deno task X` it runs (also as `npx -y deno@V task X`) exists in deno.json; the nightly and link
 * workflows are scheduled and can be started by hand, and every pinned Deno is the project's.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";

const WORKFLOWS = new URL("../.github/workflows/", import.meta.url);
const DENO_VERSION = "2.9.6";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Workflow {
  name: string;
  on: Record<string, unknown>;
  jobs: Record<string, { steps: Step[] }>;
}

async function workflows(): Promise<Map<string, Workflow>> {
  const found = new Map<string, Workflow>();
  for await (const entry of Deno.readDir(WORKFLOWS)) {
    if (!/\.ya?ml$/.test(entry.name)) continue;
    found.set(entry.name, parse(await Deno.readTextFile(new URL(entry.name, WORKFLOWS))) as Workflow);
  }
  return found;
}

/** The task names a shell script runs: `deno task X`, `npx -y deno@V task X`. */
export function tasksRun(script: string): string[] {
  return [...script.matchAll(/\bdeno(?:@[0-9.]+)?\s+task\s+([A-Za-z0-9:_-]+)/g)].map((m) => m[1]);
}

Deno.test("tasksRun finds plain and npx task invocations", () => {
  assert.deepEqual(tasksRun("deno task nightly --quick\nnpx -y deno@2.9.6 task test | tee x"), [
    "nightly",
    "test",
  ]);
  assert.deepEqual(tasksRun("deno install && deno fmt --check"), []);
});

Deno.test("every workflow parses, has steps, and runs only deno tasks that exist", async () => {
  const tasks = Object.keys(
    JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks,
  );
  const all = await workflows();
  assert.deepEqual([...all.keys()].sort(), ["ci.yml", "links.yml", "nightly.yml"]);
  for (const [file, workflow] of all) {
    assert.equal(typeof workflow.name, "string", file);
    assert.ok(workflow.on && typeof workflow.on === "object", `${file}: 'on' triggers`);
    const steps = Object.values(workflow.jobs).flatMap((job) => job.steps);
    assert.ok(steps.length > 0, `${file}: steps`);
    const ran = steps.flatMap((s) => (s.run ? tasksRun(s.run) : []));
    assert.ok(ran.length > 0, `${file} runs a deno task`);
    for (const task of ran) {
      assert.ok(tasks.includes(task), `${file} runs 'deno task ${task}', not in deno.json`);
    }
    for (const s of steps.filter((s) => s.uses?.startsWith("denoland/setup-deno"))) {
      assert.equal(String(s.with?.["deno-version"]), DENO_VERSION, `${file}: pinned Deno`);
    }
    for (const s of steps.filter((s) => s.run?.includes("npx"))) {
      for (const m of s.run!.matchAll(/deno@([0-9.]+)/g)) {
        assert.equal(m[1], DENO_VERSION, `${file}: npx deno`);
      }
    }
  }
});

Deno.test("nightly and links run on a schedule and by hand; nightly uploads reports and reports regressions", async () => {
  const all = await workflows();
  for (const file of ["nightly.yml", "links.yml"]) {
    const on = all.get(file)!.on;
    assert.ok(Array.isArray(on.schedule) && on.schedule.length > 0, `${file}: schedule`);
    assert.ok("workflow_dispatch" in on, `${file}: workflow_dispatch`);
  }
  assert.ok("pull_request" in all.get("ci.yml")!.on);
  const steps = Object.values(all.get("nightly.yml")!.jobs).flatMap((j) => j.steps);
  const runs = steps.flatMap((s) => (s.run ? tasksRun(s.run) : []));
  assert.ok(runs.includes("nightly"));
  assert.ok(steps.some((s) => s.uses?.startsWith("actions/upload-artifact") && s.with?.path === "reports/"));
  const caches = steps.filter((s) => s.uses?.startsWith("actions/cache")).map((s) => String(s.with?.path));
  assert.ok(caches.some((p) => p.includes("data")) && caches.some((p) => p.includes(".cache/deno")));
  const issue = steps.find((s) => s.uses?.startsWith("actions/github-script"));
  assert.ok(issue, "a step opens or updates an issue");
  assert.match(String(issue.with?.script), /issues\.create\b/);
  assert.match(String(issue.with?.script), /issues\.createComment\b/);
  const links = Object.values(all.get("links.yml")!.jobs).flatMap((j) => j.steps);
  assert.ok(links.flatMap((s) => (s.run ? tasksRun(s.run) : [])).includes("check-links"));
  const ci = Object.values(all.get("ci.yml")!.jobs).flatMap((j) => j.steps);
  assert.ok(ci.flatMap((s) => (s.run ? tasksRun(s.run) : [])).includes("test"));
});
