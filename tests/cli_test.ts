import assert from "node:assert/strict";
import { main } from "../main.ts";
import { numberFlag, parseCommandArgs, UsageError } from "../src/cli/command.ts";
import type { Command } from "../src/cli/command.ts";

const probe: Command = {
  name: "probe",
  summary: "test command",
  usage: "[--n N] FILE",
  flags: { n: { type: "string", description: "a number" }, flag: { type: "boolean", description: "b" } },
  positionals: { min: 1, max: 1, names: "FILE" },
  run: () => Promise.resolve(0),
};

async function captureErrors(fn: () => Promise<number>): Promise<{ code: number; stderr: string }> {
  const original = console.error;
  const lines: string[] = [];
  console.error = (...args: unknown[]) => lines.push(args.join(" "));
  try {
    return { code: await fn(), stderr: lines.join("\n") };
  } finally {
    console.error = original;
  }
}

Deno.test("unknown command exits 2 and lists the commands", async () => {
  const { code, stderr } = await captureErrors(() => main(["frobnicate"]));
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

Deno.test("flag defaults and values are returned", () => {
  const { flags, positionals } = parseCommandArgs(probe, ["--n", "3", "file.json"]);
  assert.equal(flags.n, "3");
  assert.deepEqual(positionals, ["file.json"]);
});

Deno.test("numberFlag rejects non-numbers and out-of-range values", () => {
  assert.equal(numberFlag({ n: "0.3" }, "n", { min: 0, max: 1 }), 0.3);
  for (const bad of ["abc", "", "2", "-1"]) {
    assert.throws(() => numberFlag({ n: bad }, "n", { min: 0, max: 1 }), UsageError, `value '${bad}'`);
  }
});
