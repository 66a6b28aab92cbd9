/**
 * Golden metric vectors: small, fixed inputs (image scores and labels, anomaly maps and masks) checked in
 * under `benchmarks/golden/` with the value of every metric key the engine computed for them when they
 * were written, at full precision (JSON numbers round-trip float64 exactly). The nightly metric gate
 * recomputes each case with the project's metric code (`evaluateMaps`, the same call the pipeline and the
 * `metrics` command use) and requires every value to be identical: any change in a metric's result, even
 * in the last bit, is a regression until the golden files are regenerated on purpose.
 *
 * Regenerate (only when a metric's result is meant to change, and say why in the commit):
 *
 * ```sh
 * deno run --allow-read --allow-write benchmarks/nightly/golden.ts --write benchmarks/golden
 * ```
 *
 * The inputs come from a seeded generator below, but the files hold the inputs themselves, so a change of
 * the generator cannot silently change what is checked.
 *
 * @module
 */
import { join } from "node:path";
import { z } from "zod";
import { METRIC_KEYS, type MetricKey } from "../../src/core/metrics.ts";
import { evaluateMaps, type MetricInput } from "../../src/eval/metric_set.ts";
import { FPR_MODES, type MaskMap, type ScoreMap } from "../../src/metrics/mod.ts";
import { writeFileAtomic } from "../../src/util/atomic_write.ts";
import { RandomStream } from "../../src/util/rng.ts";

/** Schema tag of a golden file. */
export const GOLDEN_SCHEMA = "vtadl-bench/golden-metrics@1";

const maskSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  /** One string of `0`/`1` per row (1 = defect pixel). */
  rows: z.array(z.string().regex(/^[01]*$/)),
});

const mapSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  data: z.array(z.number()),
});

/** One golden case as stored. */
export const GoldenCaseSchema = z.object({
  schema: z.literal(GOLDEN_SCHEMA),
  name: z.string(),
  description: z.string(),
  options: z.object({ integrationLimit: z.number(), fprMode: z.enum(FPR_MODES) }),
  inputs: z.object({
    image: z.object({ scores: z.array(z.number()), labels: z.array(z.union([z.literal(0), z.literal(1)])) })
      .optional(),
    pixel: z.object({
      dtype: z.enum(["float32", "float64"]),
      maps: z.array(mapSchema),
      masks: z.array(maskSchema),
    }).optional(),
  }),
  /** Every metric key (null where the input does not define it) and the pixel facts. */
  expected: z.object({
    metrics: z.record(z.string(), z.number().nullable()),
    nRegions: z.number().nullable(),
    nOkPixels: z.number().nullable(),
    degenerate: z.boolean().nullable(),
  }),
});
/** One golden case as stored. */
export type GoldenCase = z.infer<typeof GoldenCaseSchema>;

/** One compared value of a golden case. */
export interface GoldenComparison {
  /** `<case>/<key>`. */
  name: string;
  expected: number | boolean | null;
  actual: number | boolean | null;
  /** `exact`: must be identical; `new-key`: the engine has a key the file lacks (regenerate to pin it). */
  rule: "exact" | "new-key";
  pass: boolean;
}

function maskFromRows(mask: z.infer<typeof maskSchema>): MaskMap {
  const data = new Uint8Array(mask.width * mask.height);
  mask.rows.forEach((row, y) => {
    for (let x = 0; x < row.length; x++) data[y * mask.width + x] = row[x] === "1" ? 1 : 0;
  });
  return { width: mask.width, height: mask.height, data };
}

function rowsOfMask(mask: MaskMap): string[] {
  return Array.from(
    { length: mask.height },
    (_, y) =>
      Array.from(mask.data.subarray(y * mask.width, (y + 1) * mask.width), (v) => v ? "1" : "0").join(""),
  );
}

/** The metric input a stored case describes (maps at their stored dtype). */
export function goldenInput(c: GoldenCase): MetricInput {
  const input: MetricInput = {};
  if (c.inputs.image) input.image = { scores: c.inputs.image.scores, labels: c.inputs.image.labels };
  if (c.inputs.pixel) {
    const Array_ = c.inputs.pixel.dtype === "float32" ? Float32Array : Float64Array;
    input.pixel = {
      maps: c.inputs.pixel.maps.map((m): ScoreMap => ({
        width: m.width,
        height: m.height,
        data: Array_.from(m.data),
      })),
      masks: c.inputs.pixel.masks.map(maskFromRows),
    };
  }
  return input;
}

/** What the engine computes today for a case: every metric key and the pixel facts. */
export function computeExpected(c: Pick<GoldenCase, "inputs" | "options">): GoldenCase["expected"] {
  const set = evaluateMaps(goldenInput(c as GoldenCase), c.options);
  const metrics: Record<string, number | null> = {};
  for (const key of METRIC_KEYS) metrics[key] = set.values[key as MetricKey] ?? null;
  return {
    metrics,
    nRegions: set.pixel?.nRegions ?? null,
    nOkPixels: set.pixel?.nOkPixels ?? null,
    degenerate: set.pixel?.degenerate ?? null,
  };
}

/**
 * Recomputes a stored case and compares every value exactly (`Object.is`, so −0 ≠ 0 and NaN = NaN).
 *
 * @example
 * ```ts
 * const rows = compareGoldenCase(GoldenCaseSchema.parse(JSON.parse(text)));
 * ```
 */
export function compareGoldenCase(c: GoldenCase): GoldenComparison[] {
  const now = computeExpected(c);
  const rows: GoldenComparison[] = [];
  const push = (key: string, expected: number | boolean | null, actual: number | boolean | null) =>
    rows.push({
      name: `${c.name}/${key}`,
      expected,
      actual,
      rule: "exact",
      pass: Object.is(expected, actual),
    });
  for (const [key, expected] of Object.entries(c.expected.metrics)) {
    push(key, expected, key in now.metrics ? now.metrics[key] : null);
  }
  for (const [key, actual] of Object.entries(now.metrics)) {
    if (!(key in c.expected.metrics)) {
      rows.push({ name: `${c.name}/${key}`, expected: null, actual, rule: "new-key", pass: true });
    }
  }
  push("nRegions", c.expected.nRegions, now.nRegions);
  push("nOkPixels", c.expected.nOkPixels, now.nOkPixels);
  push("degenerate", c.expected.degenerate, now.degenerate);
  return rows;
}

/** Reads every `*.json` golden case of `dir` (sorted by file name); a malformed file is an error naming it. */
export async function readGoldenDir(dir: string): Promise<GoldenCase[]> {
  const names: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    if (entry.isFile && entry.name.endsWith(".json")) names.push(entry.name);
  }
  if (names.length === 0) throw new Error(`no golden metric files (*.json) in ${dir}`);
  names.sort();
  return await Promise.all(names.map(async (name) => {
    const path = join(dir, name);
    const parsed = GoldenCaseSchema.safeParse(JSON.parse(await Deno.readTextFile(path)));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${path}: field ${issue.path.join(".") || "(file)"}: ${issue.message}`);
    }
    return parsed.data;
  }));
}

// ---------------------------------------------------------------------------------------------------
// The generator of the checked-in inputs.

/** A seeded uniform [0, 1) source (the project's PRNG, `src/util/rng.ts`). */
function seeded(seed: number): () => number {
  const stream = RandomStream.derive(seed, "noise");
  return () => stream.uniform();
}

/** Maps with smooth noise, raised inside elliptic and rectangular defects (one touching a corner). */
function pixelCase(
  seed: number,
  images: number,
  size: number,
  dtype: "float32" | "float64",
  quantise: number | null,
): { maps: ScoreMap[]; masks: MaskMap[] } {
  const random = seeded(seed);
  const maps: ScoreMap[] = [], masks: MaskMap[] = [];
  for (let i = 0; i < images; i++) {
    const mask = new Uint8Array(size * size);
    if (i % 3 !== 0) {
      const cx = random() * size, cy = random() * size, r = 1.5 + random() * size / 5;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) if ((x - cx) ** 2 + (y - cy) ** 2 <= r * r) mask[y * size + x] = 1;
      }
      if (i % 3 === 2) { for (let y = 0; y < 3; y++) for (let x = 0; x < 4; x++) mask[y * size + x] = 1; }
    }
    const data = dtype === "float32" ? new Float32Array(size * size) : new Float64Array(size * size);
    for (let p = 0; p < data.length; p++) {
      let v = 0.5 * random() + (mask[p] ? 0.05 + 0.3 * random() : 0); // overlapping: AUROCs below 1
      if (quantise !== null) v = Math.round(v * quantise) / quantise; // ties across pixels
      data[p] = v;
    }
    maps.push({ width: size, height: size, data });
    masks.push({ width: size, height: size, data: mask });
  }
  return { maps, masks };
}

/** Mean of a map: an image score that separates the classes imperfectly. */
function meanOf(map: ScoreMap): number {
  let sum = 0;
  for (const v of map.data) sum += v;
  return sum / map.data.length;
}

type CaseSpec = Pick<GoldenCase, "name" | "description" | "options" | "inputs">;

/** The checked-in cases: what each exercises is in its description. */
export function goldenCaseSpecs(): CaseSpec[] {
  const random = seeded(11);
  const tiedScores = Array.from({ length: 41 }, () => Math.round(random() * 8) / 8);
  const tiedLabels = tiedScores.map((s, i) => (s + (i % 5 === 0 ? 0.5 : 0) > 0.55 ? 1 : 0) as 0 | 1);
  const specs: CaseSpec[] = [{
    name: "image-ties",
    description: "41 image scores on 9 levels (many ties), labels partly inconsistent with the scores",
    options: { integrationLimit: 0.3, fprMode: "float32" },
    inputs: { image: { scores: tiedScores, labels: tiedLabels } },
  }];
  const pixel = (
    name: string,
    description: string,
    seed: number,
    dtype: "float32" | "float64",
    quantise: number | null,
    options: GoldenCase["options"],
  ) => {
    const { maps, masks } = pixelCase(seed, 8, 20, dtype, quantise);
    const jitter = seeded(seed + 100);
    specs.push({
      name,
      description,
      options,
      inputs: {
        image: {
          scores: maps.map((m) => meanOf(m) + 0.08 * jitter()), // imperfect image scores
          labels: masks.map((m) => (m.data.some((v) => v !== 0) ? 1 : 0) as 0 | 1),
        },
        pixel: {
          dtype,
          maps: maps.map((m) => ({ width: m.width, height: m.height, data: Array.from(m.data) })),
          masks: masks.map((m) => ({ width: m.width, height: m.height, rows: rowsOfMask(m) })),
        },
      },
    });
  };
  pixel(
    "pixel-float32",
    "8 float32 maps of 20², elliptic defects and a corner block, AU-PRO@0.3 with float32 FPR rounding",
    21,
    "float32",
    null,
    { integrationLimit: 0.3, fprMode: "float32" },
  );
  pixel(
    "pixel-ties-numpy1",
    "quantised float32 maps (ties across regions and normal pixels), AU-PRO@0.3, NumPy 1 FPR rounding",
    22,
    "float32",
    64,
    { integrationLimit: 0.3, fprMode: "float32_numpy1" },
  );
  pixel(
    "pixel-float64-limit1",
    "float64 maps, AU-PRO integrated to FPR 1 with float64 FPRs",
    23,
    "float64",
    null,
    { integrationLimit: 1, fprMode: "float64" },
  );
  const flat = pixelCase(24, 3, 12, "float32", null);
  specs.push({
    name: "pixel-degenerate",
    description: "masks without any defect: AU-PRO is the official degenerate value, pixel AUROC undefined",
    options: { integrationLimit: 0.3, fprMode: "float32" },
    inputs: {
      pixel: {
        dtype: "float32",
        maps: flat.maps.map((m) => ({ width: m.width, height: m.height, data: Array.from(m.data) })),
        masks: flat.masks.map((m) => ({
          width: m.width,
          height: m.height,
          rows: rowsOfMask({ ...m, data: new Uint8Array(m.data.length) }),
        })),
      },
    },
  });
  return specs;
}

/** Writes every golden case, with the engine's current values, into `dir` (one file per case). */
export async function writeGoldenDir(dir: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const spec of goldenCaseSpecs()) {
    const c: GoldenCase = { schema: GOLDEN_SCHEMA, ...spec, expected: computeExpected(spec) };
    const path = join(dir, `${spec.name}.json`);
    // Arrays of numbers and mask rows on one line each: readable diffs, small files.
    const text = JSON.stringify(c, null, 2).replace(
      /\[\n\s*((?:-?[0-9.e+-]+|"[01]+"|null)(?:,\n\s*(?:-?[0-9.e+-]+|"[01]+"|null))*)\n\s*\]/g,
      (_, items: string) => `[${items.split(/,\n\s*/).join(", ")}]`,
    );
    await writeFileAtomic(path, text + "\n");
    written.push(path);
  }
  return written;
}

if (import.meta.main) {
  const [flag, dir] = Deno.args;
  if (flag !== "--write" || !dir) {
    console.error("usage: deno run --allow-read --allow-write benchmarks/nightly/golden.ts --write DIR");
    Deno.exit(2);
  }
  for (const path of await writeGoldenDir(dir)) console.log(`wrote ${path}`);
}
