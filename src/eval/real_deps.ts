/**
 * The real {@linkcode PipelineDeps}: the data layer, the models/trainer and the metric engine.
 *
 * @module
 */
import type { PipelineDeps } from "./deps.ts";

/**
 * Loads the real modules behind {@linkcode PipelineDeps}.
 *
 * @example
 * ```ts
 * const deps = await loadRealDeps();
 * ```
 */
export function loadRealDeps(): Promise<PipelineDeps> {
  // Placeholder until the data layer (issue 3), trainer (issue 4) and metrics (issue 2) are merged.
  return Promise.reject(
    new Error("reproduce: the data, model and metric modules are not merged into this branch yet"),
  );
}
