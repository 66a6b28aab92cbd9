/**
 * `--dialects`, the one flag of the metric commands (`metrics`, `evaluate`, `reproduce`) that names
 * metric dialects; kept apart from `flags.ts` so that the metric-only commands do not load the training
 * backends at start-up.
 *
 * @module
 */
import { DIALECT_VARIANTS, METRIC_DIALECT_NAMES } from "../core/metrics.ts";
import { listFlag } from "./command.ts";

/** `--dialects`: extra metric variants beside the official metrics (`metrics`, `evaluate`, `reproduce`). */
export const DIALECTS_FLAG = {
  dialects: listFlag({
    description: `Also compute these metric dialects: all, a dialect (${
      METRIC_DIALECT_NAMES.join(", ")
    }) or a variant (${DIALECT_VARIANTS.map((v) => v.key).join(", ")}); each value names its dialect.`,
    valueName: "all|NAME,...",
  }),
};
