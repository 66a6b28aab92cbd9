/**
 * The oracle comparison (benchmarks/original_oracle): its difference measure, and — when the authors' code
 * and PyTorch are present (`VTADL_ORIGINAL_CODE=/path/to/VT-ADL checkout`, and `VTADL_PYTHON` when the
 * `python3` on PATH lacks torch) — the full check against their modules (a few minutes on two cores).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { difference } from "../benchmarks/original_oracle/compare.ts";

Deno.test("oracle compare: differences are relative to the oracle's largest magnitude and element-wise", () => {
  const d = difference("x", [3], Float32Array.of(1, -2.002, 0.5), Float32Array.of(1, -2, 0));
  assert.ok(Math.abs(d.maxAbsolute - 0.5) < 1e-7);
  assert.ok(Math.abs(d.scaleRelative - 0.25) < 1e-7); // 0.5 / max|theirs| = 0.5 / 2
  assert.ok(Math.abs(d.elementRelative - 0.001) < 1e-6); // the zero element is skipped
  assert.ok(Number.isNaN(difference("n", [1], Float32Array.of(NaN), Float32Array.of(1)).scaleRelative));
  assert.throws(() => difference("y", [2], [1, 2], [1]), /y: 2 values against the oracle's 1/);
});

const checkout = Deno.env.get("VTADL_ORIGINAL_CODE");

Deno.test({
  name: "oracle: infer reproduces the authors' test-time outputs from their own .pt files to ≤ 1e-4",
  ignore: !checkout,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const root = new URL("..", import.meta.url).pathname;
      const oracle = await new Deno.Command(Deno.env.get("VTADL_PYTHON") ?? "python3", {
        args: [join(root, "benchmarks/original_oracle/oracle.py"), checkout!, dir, "--images", "1"],
        stdout: "inherit",
        stderr: "inherit",
      }).output();
      assert.equal(oracle.code, 0, "oracle.py failed");
      const compare = await new Deno.Command(Deno.execPath(), {
        args: [
          "run",
          "--allow-read",
          "--allow-write",
          "--allow-env",
          "--allow-ffi",
          "--allow-sys",
          "--allow-run=git",
          join(root, "benchmarks/original_oracle/compare.ts"),
          dir,
        ],
        stdout: "piped",
      }).output();
      const text = new TextDecoder().decode(compare.stdout);
      assert.equal(compare.code, 0, text);
      assert.match(text, /worst relative difference/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
