import assert from "node:assert/strict";
import { main } from "../main.ts";
import {
  booleanFlag,
  defineCommand,
  enumFlag,
  listFlag,
  numberFlag,
  parseCommandArgs,
  repeatedFlag,
  stringFlag,
} from "../src/cli/command.ts";
import { UsageError } from "../src/core/errors.ts";
import { MODEL_NAMES } from "../src/core/models.ts";
import { COMMANDS } from "../src/cli/commands.ts";

const probe = defineCommand({
  name: "probe",
  summary: "test command",
  usage: "[--n N] FILE",
  flags: {
    n: numberFlag({ description: "a number", integer: true, min: 1 }),
    ratio: numberFlag({ description: "a ratio", min: 0, max: 1, default: 0.5 }),
    name: stringFlag({ description: "a name", default: "x" }),
    model: enumFlag(MODEL_NAMES, { description: "a model" }),
    tags: listFlag({ description: "a list" }),
    set: repeatedFlag({ description: "repeatable" }),
    flag: booleanFlag("b"),
  },
  positionals: { min: 1, max: 1, names: "FILE" },
  run: () => Promise.resolve(0),
});

async function capture(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const [log, error] = [console.log, console.error];
  const out: string[] = [], err: string[] = [];
  console.log = (...args: unknown[]) => out.push(args.join(" "));
  console.error = (...args: unknown[]) => err.push(args.join(" "));
  try {
    return { code: await fn(), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

Deno.test("unknown command exits 2 and lists the commands", async () => {
  const { code, stderr } = await capture(() => main(["frobnicate"]));
  assert.equal(code, 2);
  assert.match(stderr, /unknown command 'frobnicate'.*metrics/);
});

Deno.test("unknown flag is a usage error naming the flag", () => {
  assert.throws(
    () => parseCommandArgs(probe, ["--bogus", "x"]),
    (e) => e instanceof UsageError && /bogus/.test(e.message),
  );
});

Deno.test("wrong positional count is a usage error", () => {
  assert.throws(
    () => parseCommandArgs(probe, []),
    (e) => e instanceof UsageError && /expected 1 argument/.test(e.message),
  );
});

Deno.test("flags are parsed into typed values with their defaults", () => {
  const { flags, positionals } = probe.parse([
    "--n",
    "3",
    "--model",
    "ae-ssim",
    "--tags",
    "a, b,,c",
    "--set",
    "k=1",
    "--set",
    "j=2",
    "file.json",
  ]);
  assert.equal(flags.n, 3);
  assert.equal(flags.ratio, 0.5);
  assert.equal(flags.name, "x");
  assert.equal(flags.model, "ae-ssim");
  assert.deepEqual(flags.tags, ["a", "b", "c"]);
  assert.deepEqual(flags.set, ["k=1", "j=2"]);
  assert.equal(flags.flag, false);
  assert.deepEqual(positionals, ["file.json"]);
  const none = probe.parse(["f"]).flags;
  assert.equal(none.n, undefined);
  assert.equal(none.model, undefined);
  assert.deepEqual(none.set, []);
});

Deno.test("number and enum flags reject bad values naming the flag and what is expected", () => {
  for (
    const [argv, pattern] of [
      [["--n", "abc"], /--n: expected an integer ≥ 1, got 'abc'/],
      [["--n", "1.5"], /--n: expected an integer ≥ 1, got '1.5'/],
      [["--ratio", "2"], /--ratio: expected a number ≥ 0 and ≤ 1, got '2'/],
      [["--model", "gan"], /--model: expected one of vtadl, ae-mse, ae-ssim, got 'gan'/],
    ] as [string[], RegExp][]
  ) {
    assert.throws(
      () => probe.parse([...argv, "f"]),
      (e) => e instanceof UsageError && pattern.test(e.message),
    );
  }
});

Deno.test("a negative number after a flag reaches the flag's check instead of 'argument is ambiguous'", () => {
  assert.throws(
    () => probe.parse(["--n", "-2", "f"]),
    (e) => e instanceof UsageError && /--n: expected an integer ≥ 1, got '-2'/.test(e.message),
  );
  assert.equal(probe.parse(["--ratio", "-0", "f"]).flags.ratio, -0);
});

Deno.test("help lists enum choices from the registry and defaults", () => {
  const help = probe.help();
  assert.match(help, /One of: vtadl, ae-mse, ae-ssim/);
  assert.match(help, /\[default: 0\.5\]/);
  assert.match(help, /\(repeatable\)/);
});

Deno.test("every usage error exits 2, whichever command raises it", async () => {
  const cases: string[][] = [
    ["reproduce", "--seeds", "-2"],
    ["reproduce", "--config", "huge"],
    ["reproduce", "--set", "epochs"],
    ["reproduce", "--set", "nosuchkey=1"],
    ["reproduce", "imagenet"],
    ["train", "--dataset", "synthetic"],
    ["train", "--dataset", "synthetic", "--category", "disc", "--set", "epochs=ten"],
    ["train", "--backend", "tpu"],
    ["download"],
    ["download", "imagenet"],
    ["download", "mnist", "--pack", "x"],
    ["model-summary", "--config", "smoke", "--set", "numGaussians=ten"],
    ["model-summary", "--model", "resnet"],
    ["metrics", "--fpr-mode", "float16", "x.json"],
    ["metrics", "--limit", "0", "x.json"],
    ["evaluate", "--gt", "x"],
    ["evaluate", "--maps", "x", "--gt", "y", "--limit", "2"],
    ["verify-metrics", "--cases", "-1"],
    ["report", "--nope"],
  ];
  for (const argv of cases) {
    const { code, stderr } = await capture(() => main(argv));
    assert.equal(code, 2, `${argv.join(" ")} → ${code}: ${stderr}`);
    assert.match(stderr, /^error: /, argv.join(" "));
    assert.doesNotMatch(stderr, /ambiguous/, argv.join(" "));
  }
});

Deno.test("every command prints help with exit 0", async () => {
  for (const entry of COMMANDS) {
    const { code, stdout } = await capture(() => main([entry.name, "--help"]));
    assert.equal(code, 0, entry.name);
    assert.match(stdout, new RegExp(`Usage: vtadl-bench ${entry.name}`));
  }
});
