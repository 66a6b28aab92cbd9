/**
 * Test helper: VT-ADL weights as a user who trained elsewhere would hold them: harness parameters from a
 * seeded network (BatchNorm running statistics made non-trivial), and the original code's `.pt` pair
 * written from them in the original layout.
 *
 * @module
 */
import { join } from "node:path";
import type { VtadlConfig } from "../../src/models/configs.ts";
import { VtAdl } from "../../src/models/vtadl.ts";
import { RandomStream } from "../../src/util/rng.ts";
import type { ParameterValues } from "../../src/weights/tensor.ts";
import { encodeTorchStateDict } from "../../src/weights/torch_file.ts";
import { harnessToOriginal } from "../../src/weights/vtadl_mapping.ts";

/** The initial weights of a seeded network, with BatchNorm means and variances that are not 0 and 1. */
export function vtadlTestWeights(config: VtadlConfig, seed = 1): Map<string, ParameterValues> {
  const net = new VtAdl(config, RandomStream.derive(seed, "init"));
  const out = new Map<string, ParameterValues>();
  for (const [spec, v] of net.params.entries()) {
    let values = Float32Array.from(v.dataSync() as Float32Array);
    if (spec.name.endsWith(".bn.var")) values = values.map((_, i) => 0.5 + 0.1 * i);
    if (spec.name.endsWith(".bn.mean")) values = values.map((_, i) => 0.05 * i - 0.2);
    out.set(spec.name, { shape: spec.shape, values });
  }
  net.dispose();
  return out;
}

/** Writes `VT_AE_Mvtech_<name>.pt` and `G_estimate_Mvtech_<name>.pt` into `dir`; returns their paths. */
export async function writeOriginalPair(
  dir: string,
  weights: Map<string, ParameterValues>,
  config: VtadlConfig,
  { name = "toy", steps = 7 }: { name?: string; steps?: number } = {},
): Promise<[string, string]> {
  const { vtae, mdn } = harnessToOriginal(weights, config, { numBatchesTracked: steps });
  const a = join(dir, `VT_AE_Mvtech_${name}.pt`), b = join(dir, `G_estimate_Mvtech_${name}.pt`);
  await Deno.writeFile(a, encodeTorchStateDict(vtae, { archiveName: `VT_AE_Mvtech_${name}` }));
  await Deno.writeFile(b, encodeTorchStateDict(mdn, { archiveName: `G_estimate_Mvtech_${name}` }));
  return [a, b];
}
