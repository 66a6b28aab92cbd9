/**
 * Self-verification of the metric engine, run by `verify-metrics`: (a) golden cases whose answers are
 * derived by hand below, (b) brute-force definitions — binarise at every distinct threshold and count
 * per-region overlap; pairwise Mann–Whitney; AP and PR-AUC from their sums — compared with the engine on
 * many seeded random cases (ties, tiny and odd shapes, corner-touching pixels, defect-free and all-defect
 * images, negative and signed-zero scores, float64 maps), and (c) bad-input errors.
 *
 * The brute-force code shares nothing with the engine (its own region flood fill, its own trapezoid), so
 * agreement is evidence, not tautology. Tolerances: 1e-12 for AU-PRO (summation order differs), 1e-12
 * for the image metrics; integer counts must match exactly.
 *
 * @module
 */
import { auPro, FPR_MODES, type FprMode } from "./pro.ts";
import { averagePrecision, prAucTrapezoid } from "./precision_recall.ts";
import { rocAuc } from "./roc.ts";
import { pixelAuroc } from "./pixel.ts";
import { labelRegions8 } from "./connected_components.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/** Outcome of one group of checks. */
export interface VerificationGroup {
  /** What was checked. */
  name: string;
  /** Number of cases. */
  cases: number;
  /** Number of failed cases. */
  failed: number;
  /** Largest |engine − reference| seen (0 for exact checks). */
  maxError: number;
  /** Description of the first failure, if any. */
  firstFailure?: string;
}

/** Result of {@linkcode runVerification}. */
export interface VerificationReport {
  groups: VerificationGroup[];
  totalCases: number;
  failedCases: number;
  seconds: number;
}

/** Options of {@linkcode runVerification}. */
export interface VerificationOptions {
  /** Seed of the random cases (default 20210421). */
  seed?: number;
  /** Number of random cases per group (default 300). */
  randomCases?: number;
}

// ---------------------------------------------------------------------------------------------------
// Seeded randomness (mulberry32: small, fast, good enough for test cases).

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// ---------------------------------------------------------------------------------------------------
// Brute-force references, written from the definitions (docs/metrics.md §1.1 and §4).

/** Pairwise Mann–Whitney: (#pairs pos > neg + ½ #ties) / (n₊ n₋). */
export function bruteAuroc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let u = 0, pos = 0, neg = 0;
  for (let i = 0; i < scores.length; i++) if (labels[i] === 1) pos++;
  neg = scores.length - pos;
  for (let i = 0; i < scores.length; i++) {
    if (labels[i] !== 1) continue;
    for (let j = 0; j < scores.length; j++) {
      if (labels[j] !== 0) continue;
      if (scores[i] > scores[j]) u += 1;
      else if (scores[i] === scores[j]) u += 0.5;
    }
  }
  return u / (pos * neg);
}

/** (recall, precision) after each distinct threshold, from the highest down (positive: score ≥ t). */
function bruteRecallPrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): [number, number][] {
  const thresholds = [...new Set(Array.from(scores))].sort((a, b) => b - a);
  let positives = 0;
  for (let i = 0; i < labels.length; i++) positives += labels[i];
  return thresholds.map((t) => {
    let tp = 0, fp = 0;
    for (let i = 0; i < scores.length; i++) {
      if (scores[i] >= t) {
        if (labels[i] === 1) tp++;
        else fp++;
      }
    }
    return [tp / positives, tp / (tp + fp)];
  });
}

/** AP = Σₙ (Rₙ − Rₙ₋₁)·Pₙ with R₀ = 0. */
export function bruteAveragePrecision(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ap = 0, previousRecall = 0;
  for (const [r, p] of bruteRecallPrecision(scores, labels)) {
    ap += (r - previousRecall) * p;
    previousRecall = r;
  }
  return ap;
}

/** Trapezoid over (R, P) from (0, 1) through every distinct threshold. */
export function brutePrAuc(scores: ArrayLike<number>, labels: ArrayLike<number>): number {
  let area = 0, r0 = 0, p0 = 1;
  for (const [r, p] of bruteRecallPrecision(scores, labels)) {
    area += (r - r0) * (p + p0) / 2;
    r0 = r;
    p0 = p;
  }
  return area;
}

/** 8-connected regions by breadth-first flood fill: region sizes in order of first pixel. */
export function bruteRegions(mask: MaskMap): { labels: Int32Array; sizes: number[] } {
  const { width, height, data } = mask;
  const labels = new Int32Array(width * height);
  const sizes: number[] = [];
  for (let start = 0; start < data.length; start++) {
    if (data[start] === 0 || labels[start] !== 0) continue;
    const id = sizes.length + 1;
    const queue = [start];
    labels[start] = id;
    let size = 0;
    while (queue.length > 0) {
      const p = queue.pop()!;
      size++;
      const x = p % width, y = (p - x) / width;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const nx = x + dx, ny = y + dy;
          if (nx < 0 || ny < 0 || nx >= width || ny >= height) continue;
          const q = ny * width + nx;
          if (data[q] !== 0 && labels[q] === 0) {
            labels[q] = id;
            queue.push(q);
          }
        }
      }
    }
    sizes.push(size);
  }
  return { labels, sizes };
}

/**
 * AU-PRO by definition: for every distinct score t (descending), FPR(t) = #OK pixels ≥ t / N_ok (rounded
 * per mode) and PRO(t) = mean over regions of #region pixels ≥ t / |region|; points (0, 0) … (1, 1),
 * clipped to ≤ 1; trapezoid to the limit with linear interpolation there; divided by the limit.
 * Degenerate inputs give the official limit/2.
 */
export function bruteAuPro(
  maps: ScoreMap[],
  masks: MaskMap[],
  limit: number,
  mode: FprMode,
): { auPro: number; nRegions: number; nOk: number } {
  const scores: number[] = [], region: number[] = [], regionSize: number[] = [];
  let nRegions = 0;
  maps.forEach((map, i) => {
    const { labels, sizes } = bruteRegions(masks[i]);
    for (let p = 0; p < map.data.length; p++) {
      scores.push(map.data[p]);
      region.push(labels[p] === 0 ? -1 : nRegions + labels[p] - 1);
    }
    regionSize.push(...sizes);
    nRegions += sizes.length;
  });
  const nOk = region.filter((r) => r < 0).length;
  const xs = [0], ys = [0];
  if (nOk > 0 && nRegions > 0) {
    const thresholds = [...new Set(scores.map((s) => (Object.is(s, -0) ? 0 : s)))].sort((a, b) => b - a);
    for (const t of thresholds) {
      let fp = 0;
      const covered = new Array(nRegions).fill(0);
      for (let k = 0; k < scores.length; k++) {
        if (scores[k] < t) continue;
        if (region[k] < 0) fp++;
        else covered[region[k]]++;
      }
      let pro = 0;
      for (let r = 0; r < nRegions; r++) pro += covered[r] / regionSize[r];
      pro /= nRegions;
      const fpr = mode === "float64"
        ? fp / nOk
        : mode === "float32"
        ? Math.fround(Math.fround(fp) / nOk)
        : Math.fround(Math.fround(fp) / Math.fround(nOk));
      xs.push(Math.min(fpr, 1));
      ys.push(Math.min(pro, 1));
    }
  }
  xs.push(1);
  ys.push(1);
  // Trapezoid up to the limit (official `trapezoid`), written out plainly.
  let area = 0, k = 1;
  for (; k < xs.length && xs[k] <= limit; k++) area += 0.5 * (ys[k] + ys[k - 1]) * (xs[k] - xs[k - 1]);
  if (k < xs.length && xs[k - 1] < limit) {
    const yAt = ys[k - 1] + (ys[k] - ys[k - 1]) * (limit - xs[k - 1]) / (xs[k] - xs[k - 1]);
    area += 0.5 * (yAt + ys[k - 1]) * (limit - xs[k - 1]);
  }
  return { auPro: area / limit, nRegions, nOk };
}

/** Pooled pixel AUROC by pairwise comparison of every defect pixel with every normal pixel. */
export function brutePixelAuroc(maps: ScoreMap[], masks: MaskMap[]): number {
  const scores: number[] = [], labels: number[] = [];
  maps.forEach((m, i) => {
    for (let p = 0; p < m.data.length; p++) {
      scores.push(m.data[p]);
      labels.push(masks[i].data[p] === 0 ? 0 : 1);
    }
  });
  return bruteAuroc(scores, labels);
}

// ---------------------------------------------------------------------------------------------------
// Golden cases, derived by hand.

function map(width: number, height: number, values: number[]): ScoreMap {
  return { width, height, data: new Float32Array(values) };
}
function mask(width: number, height: number, values: number[]): MaskMap {
  return { width, height, data: new Uint8Array(values) };
}

/** A hand-derived case: `actual()` runs the engine, `expected` is derived in the comment. */
export interface GoldenCase {
  name: string;
  expected: number;
  actual: () => number;
  /** Allowed |difference| (0 = exact). */
  tolerance: number;
}

/** The golden cases; each comment shows the derivation. */
export function goldenCases(): GoldenCase[] {
  const s4 = [0.1, 0.4, 0.35, 0.8], y4 = [0, 0, 1, 1];
  return [
    // sklearn's documented example. Pairs (pos, neg): 0.8>0.1, 0.8>0.4, 0.35>0.1, 0.35<0.4 → 3/4.
    { name: "AUROC, sklearn doc example", expected: 0.75, actual: () => rocAuc(s4, y4), tolerance: 0 },
    // Thresholds 0.8, 0.4, 0.35, 0.1 → (R, P) = (½, 1), (½, ½), (1, ⅔), (1, ½).
    // AP = ½·1 + 0·½ + ½·⅔ + 0·½ = 5/6.
    {
      name: "AP, sklearn doc example",
      expected: 5 / 6,
      actual: () => averagePrecision(s4, y4),
      tolerance: 1e-15,
    },
    // Trapezoid from (0, 1): (0→½)·(1+1)/2 = ½; (½→½) 0; (½→1)·(½+⅔)/2 = 7/24; (1→1) 0. Total 19/24.
    {
      name: "PR-AUC (trapezoid), sklearn doc example",
      expected: 19 / 24,
      actual: () => prAucTrapezoid(s4, y4),
      tolerance: 1e-15,
    },
    // One tie across classes: one diagonal step, AUROC ½. AP: one threshold, R = 1, P = ½ → ½.
    // PR-AUC: (0, 1) → (1, ½): 1·(1 + ½)/2 = ¾ (trapezoid is optimistic; AP is not).
    {
      name: "AUROC with a cross-class tie",
      expected: 0.5,
      actual: () => rocAuc([0.5, 0.5], [0, 1]),
      tolerance: 0,
    },
    {
      name: "AP with a cross-class tie",
      expected: 0.5,
      actual: () => averagePrecision([0.5, 0.5], [0, 1]),
      tolerance: 0,
    },
    {
      name: "PR-AUC with a cross-class tie",
      expected: 0.75,
      actual: () => prAucTrapezoid([0.5, 0.5], [0, 1]),
      tolerance: 0,
    },
    // Perfect map: the defect pixel scores highest, so PRO = 1 from FPR 0 on; area to 0.3 is 0.3 → 1.
    {
      name: "AU-PRO, defect outranks every normal pixel",
      expected: 1,
      actual: () =>
        auPro([map(3, 3, [0.1, 0.2, 0.3, 0.4, 0.9, 0.5, 0.6, 0.7, 0.8])], [
          mask(3, 3, [0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ])
          .auPro,
      tolerance: 1e-15,
    },
    // Inverted map: the defect scores lowest, PRO stays 0 until FPR = 1 → 0.
    {
      name: "AU-PRO, defect below every normal pixel",
      expected: 0,
      actual: () => auPro([map(2, 2, [0.5, 0.6, 0.7, 0.1])], [mask(2, 2, [0, 0, 0, 1])]).auPro,
      tolerance: 0,
    },
    // No region anywhere: official curve (0,0)–(1,1) only; area to 0.3 = ½·0.3·0.3; / 0.3 = 0.15.
    {
      name: "AU-PRO degenerate (no defect) = official 0.15",
      expected: 0.15,
      actual: () => auPro([map(2, 1, [0.3, 0.1])], [mask(2, 1, [0, 0])]).auPro,
      tolerance: 1e-15,
    },
    // Corner touching: A = (0,0) and B = {(1,1), (2,1)} touch diagonally → ONE 8-connected region of 3
    // pixels. A scores 0.9 (above all 6 normal pixels, 0.1…0.6), B scores 0.01 (below all). PRO = ⅓ from
    // FPR 0 up past 0.3 → AU-PRO = ⅓. (4-connectivity would give regions {A}, {B}: PRO = ½.)
    {
      name: "AU-PRO, corner-touching pixels form one region",
      expected: 1 / 3,
      actual: () =>
        auPro(
          [map(3, 3, [0.9, 0.1, 0.2, 0.3, 0.01, 0.01, 0.4, 0.5, 0.6])],
          [mask(3, 3, [1, 0, 0, 0, 1, 1, 0, 0, 0])],
        ).auPro,
      tolerance: 1e-15,
    },
    // Defect-free images count for the FPR: image A = [defect 0.5, normal 0.1], image B (no defect) =
    // [0.9, 0.05]. B's 0.9 comes first: FPR ⅓ > 0.3 with PRO 0 → AU-PRO 0 (A alone would give 1).
    {
      name: "AU-PRO, defect-free image's pixels are false positives",
      expected: 0,
      actual: () =>
        auPro([map(2, 1, [0.5, 0.1]), map(2, 1, [0.9, 0.05])], [mask(2, 1, [1, 0]), mask(2, 1, [0, 0])])
          .auPro,
      tolerance: 0,
    },
    // float32 FPR: normal 0.9, defect 0.5, normals 0.2, 0.1 (N_ok = 3), limit 0.5. Points: (0,0),
    // (x₁,0), (x₁,1), (x₂,1), … with x₁ = fround(1/3), x₂ = fround(2/3) > 0.5. Area = interpolation
    // piece (0.5 − x₁)·1 → AU-PRO = (0.5 − x₁)/0.5 = 1 − 2·fround(1/3) (exact: Sterbenz).
    {
      name: "AU-PRO, float32 FPR rounding (limit 0.5)",
      expected: (0.5 - Math.fround(1 / 3)) / 0.5,
      actual: () =>
        auPro([map(4, 1, [0.9, 0.5, 0.2, 0.1])], [mask(4, 1, [0, 1, 0, 0])], { integrationLimit: 0.5 }).auPro,
      tolerance: 0,
    },
    // Same with exact float64 FPR: (0.5 − 1/3)/0.5.
    {
      name: "AU-PRO, float64 FPR (limit 0.5)",
      expected: (0.5 - 1 / 3) / 0.5,
      actual: () =>
        auPro([map(4, 1, [0.9, 0.5, 0.2, 0.1])], [mask(4, 1, [0, 1, 0, 0])], {
          integrationLimit: 0.5,
          fprMode: "float64",
        })
          .auPro,
      tolerance: 0,
    },
    // Interpolation inside a rising segment: one 2-pixel region scoring 0.8 and 0.4, normals 0.6 and 0.2
    // (N_ok = 2). Points: (0,0), (0,½) [0.8], (½,½) [0.6], (½,1) [0.4], (1,1) [0.2]. Limit 0.3 lies on
    // the flat (0,½)–(½,½) piece: area = 0.3·½ → AU-PRO ½.
    {
      name: "AU-PRO, PRO averaged over a partly covered region",
      expected: 0.5,
      actual: () => auPro([map(2, 2, [0.8, 0.6, 0.4, 0.2])], [mask(2, 2, [1, 0, 1, 0])]).auPro,
      tolerance: 1e-15,
    },
    // Pixel AUROC pooled over images: defects 0.9 (img 1) and 0.3 (img 2); normals 0.5, 0.1. Pairs:
    // 0.9>0.5, 0.9>0.1, 0.3<0.5, 0.3>0.1 → 3/4.
    {
      name: "pixel AUROC pooled over images",
      expected: 0.75,
      actual: () =>
        pixelAuroc([map(2, 1, [0.9, 0.5]), map(2, 1, [0.3, 0.1])], [mask(2, 1, [1, 0]), mask(2, 1, [1, 0])]),
      tolerance: 0,
    },
  ];
}

// ---------------------------------------------------------------------------------------------------
// Random cases.

type Rand = () => number;

function randomShape(r: Rand): [number, number] {
  const pick = r();
  if (pick < 0.1) return [1, 1];
  if (pick < 0.2) return [1, 1 + Math.floor(r() * 12)];
  if (pick < 0.3) return [1 + Math.floor(r() * 12), 1];
  return [1 + Math.floor(r() * 11), 1 + Math.floor(r() * 11)];
}

function randomScores(r: Rand, n: number, kind: number): Float32Array | Float64Array {
  const out = kind === 5 ? new Float64Array(n) : new Float32Array(n);
  const levels = 2 + Math.floor(r() * 6);
  for (let i = 0; i < n; i++) {
    switch (kind) {
      case 0: // distinct-ish uniform
        out[i] = r();
        break;
      case 1: // few levels: heavy ties
        out[i] = Math.floor(r() * levels) / levels;
        break;
      case 2: // small integers with negative and signed zeros
        out[i] = r() < 0.1 ? -0 : Math.round(r() * 6 - 3);
        break;
      case 3: // many orders of magnitude and both signs: scores spread over many buckets
        out[i] = (r() < 0.5 ? -1 : 1) * Math.exp((r() - 0.5) * 40);
        break;
      case 4: // tightly clustered float32 values (shared top bits)
        out[i] = 1 + Math.floor(r() * 64) / 8192;
        break;
      default: // float64 values that float32 cannot hold (general path)
        out[i] = r() + 1e-10 * r();
    }
  }
  return out;
}

function randomMask(r: Rand, width: number, height: number): Uint8Array {
  const m = new Uint8Array(width * height);
  const kind = Math.floor(r() * 6);
  if (kind === 0) return m; // defect-free
  if (kind === 1) return m.fill(255); // all defect
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      if (kind === 2) m[p] = r() < 0.3 ? 1 : 0; // noise
      else if (kind === 3) m[p] = (x + y) % 2 === 0 && r() < 0.7 ? 255 : 0; // diagonals: corner touching
      else if (kind === 4) m[p] = x === y || x === width - 1 - y ? 1 : 0; // X shape
      else m[p] = x >= width / 3 && x < (2 * width) / 3 && y >= height / 4 ? 7 : 0; // block
    }
  }
  return m;
}

function randomPixelCase(r: Rand): { maps: ScoreMap[]; masks: MaskMap[] } {
  const images = 1 + Math.floor(r() * 4);
  const kind = Math.floor(r() * 6);
  const maps: ScoreMap[] = [], masks: MaskMap[] = [];
  for (let i = 0; i < images; i++) {
    const [width, height] = randomShape(r);
    const m = randomMask(r, width, height);
    const data = randomScores(r, width * height, kind);
    // Make defects somewhat more anomalous so curves are not all trivial.
    if (kind === 0 || kind === 5) { for (let p = 0; p < data.length; p++) if (m[p]) data[p] += 0.3 * r(); }
    maps.push({ width, height, data });
    masks.push({ width, height, data: m });
  }
  return { maps, masks };
}

const LIMITS = [0.3, 1, 0.05, 0.001];

function describe(maps: ScoreMap[], masks: MaskMap[]): string {
  return JSON.stringify({
    maps: maps.map((m) => ({ w: m.width, h: m.height, data: Array.from(m.data) })),
    masks: masks.map((m) => Array.from(m.data)),
  });
}

function record(group: VerificationGroup, error: number, tolerance: number, what: () => string): void {
  group.cases++;
  const e = Number.isNaN(error) ? Infinity : error;
  if (e > group.maxError) group.maxError = e;
  if (e > tolerance) {
    group.failed++;
    group.firstFailure ??= what();
  }
}

function expectThrow(group: VerificationGroup, pattern: RegExp, f: () => unknown, what: string): void {
  group.cases++;
  try {
    f();
  } catch (error) {
    if (error instanceof Error && pattern.test(error.message)) return;
    group.failed++;
    group.firstFailure ??= `${what}: wrong error: ${error instanceof Error ? error.message : error}`;
    return;
  }
  group.failed++;
  group.firstFailure ??= `${what}: no error thrown`;
}

function newGroup(name: string): VerificationGroup {
  return { name, cases: 0, failed: 0, maxError: 0 };
}

/**
 * Runs every check and returns one row per group.
 *
 * @example
 * ```ts
 * const report = runVerification({ randomCases: 50 });
 * report.failedCases; // 0
 * ```
 */
export function runVerification(options: VerificationOptions = {}): VerificationReport {
  const { seed = 20210421, randomCases = 300 } = options;
  const t0 = performance.now();
  const r = mulberry32(seed);
  const groups: VerificationGroup[] = [];

  const golden = newGroup("golden cases (derived by hand)");
  for (const c of goldenCases()) {
    let actual: number;
    try {
      actual = c.actual();
    } catch (error) {
      golden.cases++;
      golden.failed++;
      golden.firstFailure ??= `${c.name}: threw ${error instanceof Error ? error.message : error}`;
      continue;
    }
    record(
      golden,
      Math.abs(actual - c.expected),
      c.tolerance,
      () => `${c.name}: got ${actual}, expected ${c.expected}`,
    );
  }
  groups.push(golden);

  const image = {
    auroc: newGroup("image AUROC vs pairwise Mann–Whitney"),
    ap: newGroup("AP vs Σ (Rₙ−Rₙ₋₁)·Pₙ"),
    pr: newGroup("PR-AUC vs trapezoid from (0, 1)"),
  };
  for (let c = 0; c < randomCases; c++) {
    const n = 2 + Math.floor(r() * 40);
    const kind = Math.floor(r() * 4);
    const scores = Array.from(randomScores(r, n, kind));
    const labels: number[] = scores.map(() => (r() < 0.4 ? 1 : 0));
    // Force both classes at two different random positions.
    const a = Math.floor(r() * n);
    let b = Math.floor(r() * (n - 1));
    if (b >= a) b++;
    labels[a] = 1;
    labels[b] = 0;
    const what = () => JSON.stringify({ scores, labels });
    record(image.auroc, Math.abs(rocAuc(scores, labels) - bruteAuroc(scores, labels)), 1e-12, what);
    record(
      image.ap,
      Math.abs(averagePrecision(scores, labels) - bruteAveragePrecision(scores, labels)),
      1e-12,
      what,
    );
    record(image.pr, Math.abs(prAucTrapezoid(scores, labels) - brutePrAuc(scores, labels)), 1e-12, what);
  }
  groups.push(image.auroc, image.ap, image.pr);

  const regions = newGroup("8-connected regions vs flood fill");
  const pro = newGroup("AU-PRO vs threshold-by-threshold (3 FPR modes)");
  const counts = newGroup("AU-PRO region / OK-pixel counts");
  const pixel = newGroup("pixel AUROC vs pairwise");
  for (let c = 0; c < randomCases; c++) {
    const { maps, masks } = randomPixelCase(r);
    for (const m of masks) {
      const engine = labelRegions8(m.data, m.width, m.height);
      const brute = bruteRegions(m);
      let same = engine.count === brute.sizes.length;
      for (let k = 0; same && k < brute.sizes.length; k++) same = engine.sizes[k + 1] === brute.sizes[k];
      for (let p = 0; same && p < m.data.length; p++) same = engine.labels[p] === brute.labels[p];
      record(
        regions,
        same ? 0 : 1,
        0,
        () => JSON.stringify({ w: m.width, h: m.height, mask: Array.from(m.data) }),
      );
    }
    const limit = c % 5 === 4 ? r() : LIMITS[c % LIMITS.length];
    for (const mode of FPR_MODES) {
      const engine = auPro(maps, masks, { integrationLimit: limit, fprMode: mode });
      const brute = bruteAuPro(maps, masks, limit, mode);
      record(
        pro,
        Math.abs(engine.auPro - brute.auPro),
        1e-12,
        () => `limit ${limit} ${mode}: engine ${engine.auPro} brute ${brute.auPro} ${describe(maps, masks)}`,
      );
      if (mode === "float32") {
        const countsMatch = engine.nRegions === brute.nRegions && engine.nOkPixels === brute.nOk &&
          engine.degenerate === (brute.nRegions === 0 || brute.nOk === 0);
        record(
          counts,
          countsMatch ? 0 : 1,
          0,
          () => `counts ${engine.nRegions}/${engine.nOkPixels} vs ${brute.nRegions}/${brute.nOk}`,
        );
      }
    }
    const defect = masks.reduce((a, m) => a + m.data.filter((v) => v !== 0).length, 0);
    const total = masks.reduce((a, m) => a + m.data.length, 0);
    if (defect > 0 && defect < total) {
      record(
        pixel,
        Math.abs(pixelAuroc(maps, masks) - brutePixelAuroc(maps, masks)),
        1e-12,
        () => describe(maps, masks),
      );
    }
  }
  // A few larger cases: thousands of keys in one bucket and > 128 curve points (pairwise-sum blocks).
  for (let c = 0; c < 6; c++) {
    const size = 40 + c;
    const maps: ScoreMap[] = [], masks: MaskMap[] = [];
    for (let i = 0; i < 3; i++) {
      const data = randomScores(r, size * size, c % 2 === 0 ? 4 : 1);
      if (c >= 4) {
        for (let p = 0; p < data.length; p++) data[p] = Math.fround(1 + Math.floor(r() * 300) / 65536);
      }
      const m = i === 0 ? new Uint8Array(size * size) : randomMask(r, size, size);
      maps.push({ width: size, height: size, data });
      masks.push({ width: size, height: size, data: m });
    }
    const limit = c % 2 === 0 ? 0.3 : 1;
    const engine = auPro(maps, masks, { integrationLimit: limit });
    const brute = bruteAuPro(maps, masks, limit, "float32");
    record(
      pro,
      Math.abs(engine.auPro - brute.auPro),
      1e-12,
      () => `large case ${c}: ${engine.auPro} vs ${brute.auPro}`,
    );
  }
  groups.push(regions, pro, counts, pixel);

  const errors = newGroup("bad input gives a clear error");
  const ok1 = map(2, 1, [0.1, 0.2]), m1 = mask(2, 1, [1, 0]);
  expectThrow(
    errors,
    /anomaly map 1: score at pixel 3 \(row 1, column 1\) is NaN/,
    () => auPro([ok1, map(2, 2, [0, 0, 0, NaN])], [m1, mask(2, 2, [0, 0, 0, 0])]),
    "NaN in map 1",
  );
  expectThrow(
    errors,
    /anomaly map 0: score at pixel 1 .* is Infinity/,
    () => auPro([{ width: 2, height: 1, data: new Float64Array([0, Infinity]) }], [m1]),
    "infinity (float64)",
  );
  expectThrow(
    errors,
    /anomaly map 0: score at pixel 0 .* is -Infinity/,
    () => pixelAuroc([map(2, 1, [-Infinity, 0])], [m1]),
    "-infinity in pixel AUROC",
  );
  expectThrow(
    errors,
    /anomaly map 1 is 2×1 .* mask is 1×2/,
    () => auPro([ok1, ok1], [m1, mask(1, 2, [0, 1])]),
    "size mismatch",
  );
  expectThrow(errors, /all 3 labels are 0/, () => rocAuc([1, 2, 3], [0, 0, 0]), "one class (AUROC)");
  expectThrow(errors, /all 2 labels are 1/, () => averagePrecision([1, 2], [1, 1]), "one class (AP)");
  expectThrow(
    errors,
    /no mask has a defect pixel/,
    () => pixelAuroc([ok1], [mask(2, 1, [0, 0])]),
    "one class (pixel AUROC)",
  );
  expectThrow(errors, /score 1 is NaN/, () => rocAuc([0.5, NaN], [0, 1]), "NaN image score");
  expectThrow(errors, /label 0 is 2/, () => prAucTrapezoid([0.5, 0.6], [2, 1]), "label not 0/1");
  expectThrow(
    errors,
    /integration limit must be in \(0, 1\]/,
    () => auPro([ok1], [m1], { integrationLimit: 0 }),
    "limit 0",
  );
  groups.push(errors);

  const totalCases = groups.reduce((a, g) => a + g.cases, 0);
  const failedCases = groups.reduce((a, g) => a + g.failed, 0);
  return { groups, totalCases, failedCases, seconds: (performance.now() - t0) / 1000 };
}
