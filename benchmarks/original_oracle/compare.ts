/**
 * Compares `infer` with the authors' code: runs `infer --config code` on the files `oracle.py` wrote
 * (its two `.pt` files and `X.npy`) and reports, for each output, the largest difference relative to the
 * oracle's largest magnitude (`max|ours − theirs| / max|theirs|`) and, for the patch NLL and the image
 * score, the largest element-wise relative difference. Exits 1 when any figure exceeds `--limit`
 * (default 1e-4, the target of issue 10).
 *
 * Usage: deno run --allow-read --allow-write --allow-env --allow-ffi --allow-sys --allow-run=git \
 *   benchmarks/original_oracle/compare.ts ORACLE_DIR [--backend B] [--limit L]
 *
 * @module
 */
import { join } from "node:path";
import { parseArgs } from "node:util";
import { main } from "../../main.ts";
import { readNpy } from "../../src/util/npy.ts";

/** The differences of one output. */
export interface OutputDifference {
  output: string;
  shape: number[];
  /** max|ours − theirs| / max|theirs|. */
  scaleRelative: number;
  /** max over elements of |ours − theirs| / |theirs| (elements with theirs = 0 skipped). */
  elementRelative: number;
  maxAbsolute: number;
}

/**
 * The differences between two arrays of the same length.
 *
 * @example
 * ```ts
 * difference("image_score", [1], Float64Array.of(1.00001), Float64Array.of(1)).elementRelative; // ≈ 1e-5
 * ```
 */
export function difference(
  output: string,
  shape: number[],
  ours: ArrayLike<number>,
  theirs: ArrayLike<number>,
): OutputDifference {
  if (ours.length !== theirs.length) {
    throw new Error(`${output}: ${ours.length} values against the oracle's ${theirs.length}`);
  }
  let maxAbs = 0, scale = 0, element = 0;
  for (let i = 0; i < ours.length; i++) {
    const d = Math.abs(ours[i] - theirs[i]);
    if (!(d <= maxAbs)) maxAbs = d; // NaN propagates
    scale = Math.max(scale, Math.abs(theirs[i]));
    if (theirs[i] !== 0) element = Math.max(element, d / Math.abs(theirs[i]));
  }
  return { output, shape, scaleRelative: maxAbs / scale, elementRelative: element, maxAbsolute: maxAbs };
}

if (import.meta.main) {
  const { values, positionals } = parseArgs({
    args: Deno.args,
    allowPositionals: true,
    options: { backend: { type: "string", default: "auto" }, limit: { type: "string", default: "1e-4" } },
  });
  const dir = positionals[0];
  if (!dir) {
    console.error("usage: compare.ts ORACLE_DIR [--backend B] [--limit L]");
    Deno.exit(2);
  }
  const out = join(dir, "harness");
  const code = await main([
    "infer",
    "--model",
    "vtadl",
    "--config",
    "code",
    "--backend",
    values.backend!,
    "--weights",
    join(dir, "VT_AE_Mvtech_oracle.pt"),
    "--weights",
    join(dir, "G_estimate_Mvtech_oracle.pt"),
    "--input",
    join(dir, "X.npy"),
    "--out",
    out,
  ]);
  if (code !== 0) Deno.exit(code);
  const rows: OutputDifference[] = [];
  for (const name of ["recon", "patch_nll", "anomaly_map", "image_score"]) {
    const ours = await readNpy(join(out, `${name}.npy`));
    const theirs = await readNpy(join(dir, `${name}.npy`));
    if (ours.shape.join("×") !== theirs.shape.join("×")) {
      throw new Error(`${name}: shape ${ours.shape.join("×")}, the oracle's ${theirs.shape.join("×")}`);
    }
    rows.push(difference(name, ours.shape, ours.data, theirs.data));
  }
  const limit = Number(values.limit);
  for (const r of rows) {
    console.log(
      `${r.output.padEnd(12)} ${r.shape.join("×").padEnd(16)} max|Δ|/max|oracle| ${
        r.scaleRelative.toExponential(2)
      }  max elementwise rel ${r.elementRelative.toExponential(2)}  max|Δ| ${r.maxAbsolute.toExponential(2)}`,
    );
  }
  await Deno.writeTextFile(join(out, "compare.json"), JSON.stringify({ limit, rows }, null, 2) + "\n");
  const worst = Math.max(
    ...rows.map((r) => r.scaleRelative),
    ...rows.filter((r) => r.output === "patch_nll" || r.output === "image_score").map((r) =>
      r.elementRelative
    ),
  );
  console.log(`worst relative difference ${worst.toExponential(2)} (limit ${limit})`);
  Deno.exit(worst <= limit ? 0 : 1);
}
