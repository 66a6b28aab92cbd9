import assert from "node:assert/strict";
import { join } from "node:path";
import { UsageError } from "../src/core/errors.ts";
import { command, reproduceOptionsFromFlags, runReproduceCommand } from "../src/cli/reproduce.ts";
import { fakeDeps } from "./fakes/pipeline_fakes.ts";

function parse(argv: string[]) {
  const { flags, positionals } = command.parse(argv);
  return reproduceOptionsFromFlags(flags, positionals);
}

Deno.test("no arguments = the offline default: synthetic, all three models, smoke config, seed 0", () => {
  const o = parse([]);
  assert.equal(o.dataset, "synthetic");
  assert.deepEqual(o.models, ["vtadl", "ae-mse", "ae-ssim"]);
  assert.equal(o.configName, "smoke");
  assert.deepEqual(o.seeds, [0]);
  assert.equal(o.outDir, "reports");
  assert.equal(o.dataDir, "data");
  assert.equal(o.evalResolution, "preprocessed");
});

Deno.test("other datasets default to VT-ADL alone", () => {
  assert.deepEqual(parse(["btad"]).models, ["vtadl"]);
  assert.deepEqual(parse(["synthetic", "--model", "ae-ssim"]).models, ["ae-ssim"]);
});

Deno.test("a malformed --set is a usage error", () => {
  assert.throws(
    () => parse(["--set", "epochs"]),
    (e) => e instanceof UsageError && /key=value/.test(e.message),
  );
});

Deno.test("flags map to pipeline options", () => {
  const o = parse([
    "fashion-mnist",
    "--model",
    "all",
    "--seeds",
    "3",
    "--categories",
    "0, 7",
    "--mirror",
    "/usr/share/datasets/fashion-mnist",
    "--restart",
    "--score",
    "nll",
    "--set",
    "epochs=2",
  ]);
  assert.equal(o.configName, "mnist", "MNIST-like datasets default to the mnist config");
  assert.deepEqual(o.models, ["vtadl", "ae-mse", "ae-ssim"]);
  assert.deepEqual(o.seeds, [0, 1, 2]);
  assert.deepEqual(o.categories, ["0", "7"]);
  assert.deepEqual(o.mirrors, ["/usr/share/datasets/fashion-mnist"]);
  assert.equal(o.checkpoint, "restart");
  assert.equal(parse([]).checkpoint, "resume", "a compatible checkpoint is continued by default");
  assert.equal(o.imageScore, "nll");
  assert.deepEqual(o.configOverrides, { epochs: "2" });
  assert.deepEqual(parse(["--seed", "42"]).seeds, [42]);
  assert.deepEqual(parse(["--max-train", "100", "--max-test", "500"]).limits, {
    maxTrain: 100,
    maxTest: 500,
  });
  assert.equal(parse([]).limits, undefined);
  assert.equal(parse(["mvtec"]).configName, "code");
});

Deno.test("bad values are usage errors naming the flag", () => {
  for (
    const [argv, pattern] of [
      [["imagenet"], /DATASET: expected one of mnist, fashion-mnist, mvtec, btad, synthetic, got 'imagenet'/],
      [["--model", "gan"], /--model: expected one of vtadl/],
      [["--seeds", "2", "--seed", "1"], /exclusive/],
      [["--seeds", "0"], /--seeds: expected an integer ≥ 1/],
      [["--seeds", "-2"], /--seeds: expected an integer ≥ 1 and ≤ 100, got '-2'/],
      [["--resume", "--restart"], /exclusive/],
      [["--score", "best"], /--score: expected one of code, paper, nll, recon/],
      [["--set", "epochs"], /--set epochs: expected key=value/],
      [["--config", "huge"], /--config: expected one of smoke, quick, mnist, code, paper/],
      [["--eval-resolution", "native"], /--eval-resolution/],
    ] as [string[], RegExp][]
  ) {
    assert.throws(
      () => parse(argv),
      (e) => e instanceof UsageError && pattern.test(e.message),
      argv.join(" "),
    );
  }
});

Deno.test("the command prints the summary and the tables and exits 1 when a cell aborted", async () => {
  const out = await Deno.makeTempDir();
  const o = { ...parse(["--out", out, "--data-dir", join(out, "data")]), log: () => {} };
  const stdout: string[] = [], stderr: string[] = [];
  const [log, error] = [console.log, console.error];
  console.log = (...a: unknown[]) => stdout.push(a.join(" "));
  console.error = (...a: unknown[]) => stderr.push(a.join(" "));
  try {
    assert.equal(await runReproduceCommand(o, fakeDeps().deps), 0);
    assert.equal(
      await runReproduceCommand(o, fakeDeps({ failCategory: "alpha" }).deps),
      0,
      "completed cells are skipped",
    );
    const o2 = { ...o, configOverrides: { epochs: "1" } };
    assert.equal(await runReproduceCommand(o2, fakeDeps({ failCategory: "alpha" }).deps), 1);
  } finally {
    console.log = log;
    console.error = error;
  }
  const text = stdout.join("\n");
  assert.match(text, /### synthetic: per category/);
  assert.match(text, /\| alpha \|/);
  assert.match(stderr.join("\n"), /alpha vtadl s0\s+skipped/);
  assert.match(stderr.join("\n"), /alpha vtadl s0\s+aborted \(train\)/);
  assert.ok((await Deno.stat(join(out, "tables", "synthetic.md"))).isFile);
});
