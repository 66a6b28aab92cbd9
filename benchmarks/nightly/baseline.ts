/**
 * `benchmarks/baseline.json`: what the nightly run compares with, one entry per profile (`quick`,
 * `full`), each recording the commit it was made from. Model metrics are stored as mean ± sample std over
 * seeds with their own tolerance (`k`, `floor`); performance figures as one value with a tolerance band
 * and the ratio below which a drop fails the run. The rules are here, next to the format they read.
 *
 * @module
 */
import { z } from "zod";
import { writeFileAtomic } from "../../src/util/atomic_write.ts";

/** Schema tag of the baseline file. */
export const BASELINE_SCHEMA = "vtadl-bench/nightly-baseline@1";

/** Tolerance of a model metric used when an entry is first written (docs/nightly.md). */
export const DEFAULT_MODEL_TOLERANCE = { k: 3, floor: 0.02 };

/** Tolerance of a performance figure used when an entry is first written. */
export const DEFAULT_PERF_TOLERANCE = { band: 0.25, failBelow: 0.33 };

/** One model metric: mean ± sample std over `n` seeds, and its rule's parameters. */
export const ModelEntrySchema = z.object({
  mean: z.number(),
  std: z.number().nonnegative(),
  n: z.number().int().positive(),
  /** Fail when |new mean − mean| > max(k·std, floor). */
  k: z.number().nonnegative(),
  floor: z.number().nonnegative(),
});
/** One model metric of the baseline. */
export type ModelEntry = z.infer<typeof ModelEntrySchema>;

/** One performance figure. */
export const PerfEntrySchema = z.object({
  value: z.number().positive(),
  unit: z.string(),
  /** Throughputs are better when higher, durations when lower; the ratio is taken so that > 1 is faster. */
  higherIsBetter: z.boolean(),
  /** Ratios below 1 − band are reported as slower (not a failure). */
  band: z.number().min(0).max(1),
  /** A ratio below this fails the run (a large drop); null: reported only. */
  failBelow: z.number().min(0).max(1).nullable(),
});
/** One performance figure of the baseline. */
export type PerfEntry = z.infer<typeof PerfEntrySchema>;

/** The baseline of one profile. */
export const ProfileBaselineSchema = z.object({
  /** The commit the run that wrote this entry came from (null outside a git checkout). */
  commit: z.object({ commit: z.string(), dirty: z.boolean() }).nullable(),
  createdAt: z.string(),
  /** Where it was measured, in words (CPU, cores, backend). */
  machine: z.string(),
  /** Keys: `<dataset>/<category>/<model>/<metric>`. */
  model: z.record(z.string(), ModelEntrySchema),
  /** Keys: a figure's name, e.g. `train_img_per_s/vtadl/smoke`. */
  performance: z.record(z.string(), PerfEntrySchema),
});
/** The baseline of one profile. */
export type ProfileBaseline = z.infer<typeof ProfileBaselineSchema>;

/** The whole file. */
export const BaselineFileSchema = z.object({
  schema: z.literal(BASELINE_SCHEMA),
  profiles: z.record(z.string(), ProfileBaselineSchema),
});
/** The whole baseline file. */
export type BaselineFile = z.infer<typeof BaselineFileSchema>;

/** Reads and validates a baseline file; a missing file is an empty baseline. */
export async function readBaseline(path: string): Promise<BaselineFile> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return { schema: BASELINE_SCHEMA, profiles: {} };
    throw error;
  }
  const parsed = BaselineFileSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${path}: field ${issue.path.join(".") || "(file)"}: ${issue.message}`);
  }
  return parsed.data;
}

/** Writes a baseline file (pretty JSON, atomically). */
export async function writeBaseline(path: string, baseline: BaselineFile): Promise<void> {
  await writeFileAtomic(path, JSON.stringify(baseline, null, 2) + "\n");
}

/** Mean and sample standard deviation (n − 1; 0 for one value). */
export function meanStd(values: readonly number[]): { mean: number; std: number; n: number } {
  const n = values.length;
  const mean = values.reduce((a, v) => a + v, 0) / n;
  const variance = n > 1 ? values.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1) : 0;
  return { mean, std: Math.sqrt(variance), n };
}

/** The outcome of the statistical rule for one model metric. */
export interface ModelVerdict {
  pass: boolean;
  /** max(k·std, floor). */
  allowed: number;
  /** |new mean − baseline mean|. */
  delta: number;
  /** The rule in words, with its numbers. */
  rule: string;
}

/**
 * The model gate's rule: the new mean must lie within the baseline mean ± max(k·std, floor), where std
 * is the baseline's sample standard deviation over seeds.
 *
 * @example
 * ```ts
 * modelVerdict({ mean: 0.8, std: 0.01, n: 3, k: 3, floor: 0.02 }, 0.79).pass; // true
 * ```
 */
export function modelVerdict(base: ModelEntry, mean: number): ModelVerdict {
  const allowed = Math.max(base.k * base.std, base.floor);
  const delta = Math.abs(mean - base.mean);
  return {
    pass: Number.isFinite(mean) && delta <= allowed,
    allowed,
    delta,
    rule: `Δmean ${delta.toFixed(4)}; allowed max(${base.k}·${base.std.toFixed(4)}, ${base.floor}) = ${
      allowed.toFixed(4)
    }`,
  };
}

/** The outcome of a performance comparison. */
export interface PerfVerdict {
  /** now / baseline for throughputs, baseline / now for durations: > 1 is faster. */
  ratio: number;
  /** `ok`, `slower` (outside the band, not gating) or `fail` (a large drop). */
  status: "ok" | "slower" | "fail";
  rule: string;
}

/**
 * Compares a performance figure with its baseline as a ratio (> 1 = faster).
 *
 * @example
 * ```ts
 * perfVerdict({ value: 10, unit: "img/s", higherIsBetter: true, band: 0.25, failBelow: 0.33 }, 2).status; // "fail"
 * ```
 */
export function perfVerdict(base: PerfEntry, value: number): PerfVerdict {
  const ratio = base.higherIsBetter ? value / base.value : base.value / value;
  const status = base.failBelow !== null && !(ratio >= base.failBelow)
    ? "fail"
    : ratio >= 1 - base.band
    ? "ok"
    : "slower";
  const gate = base.failBelow === null ? "reported only" : `fail < ${base.failBelow}`;
  return { ratio, status, rule: `speed ratio ${ratio.toFixed(2)} (band ≥ ${1 - base.band}; ${gate})` };
}
