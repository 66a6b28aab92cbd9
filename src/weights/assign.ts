/**
 * Loading converted weights into a network's variables, so that a model trained elsewhere (the original
 * code's `.pt` pair, a safetensors file) can be scored without training.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { Network } from "../models/network.ts";
import type { ParameterValues } from "./tensor.ts";

/**
 * Assigns every parameter and state tensor of `network` from `params` (by harness name), checking that
 * each is present with the right shape; throws naming every missing or misshapen one before assigning
 * anything.
 *
 * @example
 * ```ts
 * assignParameters(network, originalToHarness({ vtae, mdn }, config));
 * ```
 */
export function assignParameters(network: Network, params: ReadonlyMap<string, ParameterValues>): void {
  const problems: string[] = [];
  for (const [spec] of network.params.entries()) {
    const p = params.get(spec.name);
    if (!p) problems.push(`missing '${spec.name}'`);
    else if (
      p.shape.join("×") !== spec.shape.join("×") || p.values.length !== spec.shape.reduce((a, d) => a * d, 1)
    ) {
      problems.push(`'${spec.name}' is ${p.shape.join("×")}, the network has ${spec.shape.join("×")}`);
    }
  }
  if (problems.length > 0) {
    throw new Error(
      `weights do not fit the ${network.config.model}/${network.config.name} network: ${problems.join("; ")}`,
    );
  }
  for (const [spec, variable] of network.params.entries()) {
    const p = params.get(spec.name)!;
    tf.tidy(() => variable.assign(tf.tensor(p.values, spec.shape, "float32")));
  }
}
