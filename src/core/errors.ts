/**
 * The one error class every layer may throw when the harness was called the wrong way (a bad flag value,
 * an unknown config, category or `--set` key). `main.ts` maps it, once, to exit code 2; every other
 * error exits 1.
 *
 * @module
 */

/**
 * A mistake in how the harness was called; the message names the input and what is expected.
 *
 * @example
 * ```ts
 * throw new UsageError("--seeds: expected an integer ≥ 1, got '-2'");
 * ```
 */
export class UsageError extends Error {
  override name = "UsageError";
}
