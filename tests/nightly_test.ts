/**
 * The nightly benchmark (`benchmarks/nightly.ts`): its rules, the golden vectors, the outputs digest, and
 * the quick profile end to end in a child process: it passes on the clean tree and fails with exit 1 and
 * a diff table on an injected regression of each gate (a tampered golden value, a baseline with a shifted
 * mean, nondeterministic outputs through the documented test hook).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { modelVerdict, perfVerdict, readBaseline } from "../benchmarks/nightly/baseline.ts";
import { compareGoldenCase, readGoldenDir } from "../benchmarks/nightly/golden.ts";
import { mapsDigest, NONDETERMINISM_TEST_HOOK, outputsDigest } from "../src/eval/outputs_digest.ts";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const GOLDEN = join(ROOT, "benchmarks", "golden");
const BASELINE = join(ROOT, "benchmarks", "baseline.json");

Deno.test("model rule: a mean within max(k·std, floor) passes, one outside fails", () => {
  const base = { mean: 0.8, std: 0.01, n: 3, k: 3, floor: 0.02 };
  assert.equal(modelVerdict(base, 0.775).pass, true); // Δ 0.025 < 3·0.01
  assert.equal(modelVerdict(base, 0.765).pass, false);
  assert.equal(modelVerdict({ ...base, std: 0 }, 0.815).pass, true); // the floor
  assert.equal(modelVerdict({ ...base, std: 0 }, 0.83).pass, false);
  assert.equal(modelVerdict(base, NaN).pass, false);
});

Deno.test("performance rule: slower inside the gate is reported, a large drop fails, durations invert", () => {
  const base = { value: 10, unit: "img/s", higherIsBetter: true, band: 0.25, failBelow: 0.33 };
  assert.equal(perfVerdict(base, 9).status, "ok");
  assert.equal(perfVerdict(base, 5).status, "slower");
  assert.equal(perfVerdict(base, 3).status, "fail");
  assert.equal(perfVerdict({ ...base, failBelow: null }, 1).status, "slower");
  const time = { value: 2, unit: "s", higherIsBetter: false, band: 0.25, failBelow: 0.33 };
  assert.equal(perfVerdict(time, 1).ratio, 2);
  assert.equal(perfVerdict(time, 8).status, "fail");
});

Deno.test("golden vectors: the checked-in files match the engine exactly, a last-bit change does not", async () => {
  const cases = await readGoldenDir(GOLDEN);
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    for (const row of compareGoldenCase(c)) {
      assert.ok(row.pass, `${row.name}: ${row.expected} ≠ ${row.actual}`);
    }
  }
  const pixel = cases.find((c) =>
    c.expected.metrics.auPro !== null && c.expected.metrics.pixelAuroc !== null
  )!;
  const value = pixel.expected.metrics.auPro!;
  const nextUp = new Float64Array([value]);
  new BigInt64Array(nextUp.buffer)[0] += 1n; // one ulp
  const tampered = {
    ...pixel,
    expected: { ...pixel.expected, metrics: { ...pixel.expected.metrics, auPro: nextUp[0] } },
  };
  const failed = compareGoldenCase(tampered).filter((r) => !r.pass);
  assert.deepEqual(failed.map((r) => r.name), [`${pixel.name}/auPro`]);
});

Deno.test("outputs digest: equal maps give equal digests; one changed value, order or the test hook differ", () => {
  const a = { width: 2, height: 2, data: new Float32Array([0.1, 0.2, 0.3, 0.4]) };
  const b = { width: 2, height: 2, data: new Float32Array([0.5, 0.6, 0.7, 0.8]) };
  assert.equal(mapsDigest([a, b]), mapsDigest([{ ...a, data: a.data.slice() }, b]));
  assert.notEqual(mapsDigest([a, b]), mapsDigest([b, a]));
  const changed = a.data.slice();
  changed[3] = Math.fround(0.4 + 1e-7);
  assert.notEqual(mapsDigest([a, b]), mapsDigest([{ ...a, data: changed }, b]));
  assert.notEqual(mapsDigest([a]), mapsDigest([{ width: 4, height: 1, data: a.data }]));
  assert.equal(outputsDigest(new Float64Array([1]), null).mapsDigest, null);
  Deno.env.set(NONDETERMINISM_TEST_HOOK, "1");
  try {
    assert.notEqual(mapsDigest([a]), mapsDigest([a]));
  } finally {
    Deno.env.delete(NONDETERMINISM_TEST_HOOK);
  }
});

// ---------------------------------------------------------------------------------------------------
// The quick nightly in a child process (as `deno task nightly --quick` runs it).

const work = await Deno.makeTempDir({ prefix: "vtadl-nightly-test-" });
const dataDir = join(work, "data"); // shared: synthetic is generated once

async function nightly(args: string[], env: Record<string, string> = {}) {
  const reports = await Deno.makeTempDir({ dir: work });
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      "--allow-net=127.0.0.1",
      "--allow-run",
      join(ROOT, "benchmarks", "nightly.ts"),
      "--quick",
      "--data-dir",
      dataDir,
      "--reports",
      reports,
      "--date",
      "2026-01-02",
      ...args,
    ],
    cwd: ROOT,
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const dir = join(reports, "2026-01-02");
  return {
    code,
    stdout: new TextDecoder().decode(stdout),
    stderr: new TextDecoder().decode(stderr),
    summary: JSON.parse(await Deno.readTextFile(join(dir, "summary.json"))),
    markdown: await Deno.readTextFile(join(dir, "summary.md")),
  };
}

/** The diff-table rows (`| gate | metric | baseline | now | rule | result |`) that failed. */
function failedRows(markdown: string): string[][] {
  return markdown.split("\n").filter((l) => l.startsWith("| ") && l.endsWith("| **FAIL** |")).map((l) =>
    l.split(" | ").map((c) => c.replace(/^\| /, "").replace(/ \|$/, ""))
  ).filter((cells) => cells.length === 6);
}

Deno.test({
  name: "quick nightly passes on the clean tree: every gate, summary.json and summary.md written",
  sanitizeResources: false,
  async fn() {
    const run = await nightly([]);
    assert.equal(run.code, 0, run.stdout + run.stderr.slice(-3000));
    assert.equal(run.summary.regression, false);
    assert.deepEqual(
      run.summary.gates.map((g: { gate: string; status: string }) => [g.gate, g.status]),
      [["metric", "pass"], ["model", "pass"], ["determinism", "pass"], ["performance", "pass"], [
        "checks",
        "pass",
      ]],
    );
    const gates = new Set(run.summary.rows.map((r: { gate: string }) => r.gate));
    for (const g of ["metric", "model", "determinism", "performance", "checks"]) assert.ok(gates.has(g), g);
    const baseline = await readBaseline(BASELINE);
    const keys = Object.keys(baseline.profiles.quick.model);
    const model = run.summary.rows.filter((r: { gate: string; name: string }) =>
      r.gate === "model" && keys.includes(r.name)
    );
    assert.equal(model.length, keys.length, "every baseline metric compared");
    assert.ok(model.every((r: { result: string }) => r.result === "pass"));
    assert.match(run.markdown, /\| gate \| metric \| baseline \| now \| rule \| result \|/);
    assert.deepEqual(failedRows(run.markdown), []);
  },
});

Deno.test({
  name: "metric gate: a tampered golden value fails the run with exit 1 and its diff row",
  sanitizeResources: false,
  async fn() {
    const golden = join(work, "golden");
    await Deno.mkdir(golden);
    for await (const e of Deno.readDir(GOLDEN)) {
      await Deno.copyFile(join(GOLDEN, e.name), join(golden, e.name));
    }
    const path = join(golden, "image-ties.json");
    const c = JSON.parse(await Deno.readTextFile(path));
    c.expected.metrics.imageAuroc += 1e-12;
    await Deno.writeTextFile(path, JSON.stringify(c));
    const run = await nightly(["--gates", "metric", "--golden", golden]);
    assert.equal(run.code, 1, run.stderr.slice(-2000));
    const rows = failedRows(run.stdout);
    assert.equal(rows.length, 1, run.stdout);
    assert.equal(rows[0][0], "metric");
    assert.equal(rows[0][1], "golden image-ties/imageAuroc");
    assert.equal(Number(rows[0][2]), c.expected.metrics.imageAuroc);
    assert.equal(run.summary.gates.find((g: { gate: string }) => g.gate === "metric").status, "fail");
  },
});

Deno.test({
  name: "model gate: a baseline with a shifted mean fails the run with exit 1 and its diff row",
  sanitizeResources: false,
  async fn() {
    const baseline = await readBaseline(BASELINE);
    const key = Object.keys(baseline.profiles.quick.model).find((k) => k.endsWith("/vtadl/auPro"))!;
    const entry = baseline.profiles.quick.model[key];
    entry.mean += 0.5;
    entry.std = 0;
    const path = join(work, "shifted-baseline.json");
    await Deno.writeTextFile(path, JSON.stringify(baseline));
    const run = await nightly(["--gates", "model", "--seeds", "1", "--baseline", path]);
    assert.equal(run.code, 1, run.stderr.slice(-2000));
    const row = failedRows(run.stdout).find((r) => r[1] === key);
    assert.ok(row, run.stdout);
    assert.equal(row[0], "model");
    assert.match(row[2], new RegExp(`^${entry.mean.toFixed(4)} ± 0\\.0000`));
    assert.match(row[4], /^Δmean 0\.[0-9]+; allowed max\(3·0\.0000, 0\.02\)/);
  },
});

Deno.test({
  name: "determinism gate: nondeterministic outputs (test hook) fail the run with exit 1 and digest rows",
  sanitizeResources: false,
  async fn() {
    const run = await nightly(["--gates", "determinism"], { [NONDETERMINISM_TEST_HOOK]: "1" });
    assert.equal(run.code, 1, run.stderr.slice(-2000));
    const rows = failedRows(run.stdout);
    assert.ok(rows.length >= 2, run.stdout);
    assert.ok(rows.every((r) => r[0] === "determinism" && r[2] !== r[3] && /^identical on cpu/.test(r[4])));
    assert.ok(rows.some((r) => r[1].endsWith("mapsDigest")));
  },
});

Deno.test({
  name: "--update-baseline rewrites the profile from the run and records the commit",
  sanitizeResources: false,
  async fn() {
    const path = join(work, "new-baseline.json");
    const run = await nightly(["--gates", "model", "--seeds", "1", "--baseline", path, "--update-baseline"]);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    const written = await readBaseline(path);
    const quick = written.profiles.quick;
    assert.ok(Object.keys(quick.model).length > 0);
    assert.ok(Object.values(quick.model).every((e) => e.n === 1 && e.std === 0 && e.k === 3));
    assert.equal(run.summary.code?.commit ?? null, quick.commit?.commit ?? null);
    assert.equal(run.summary.baselineUpdated, true);
  },
});

globalThis.addEventListener("unload", () => {
  Deno.removeSync(work, { recursive: true });
});
