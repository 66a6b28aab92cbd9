/**
 * Deterministic subsampling of a category split, for quick looks and tests on large sets (MNIST-like
 * test sets have 10,000 images). Evenly spaced picks keep the split's order and, for the test set, the
 * ratio of normal to anomalous images. A subsampled run is recorded as such and never mixed with full
 * runs (the limits are part of the cell key).
 *
 * @module
 */
import type { CategorySplit, ImageSample } from "../datasets/types.ts";

/** Upper bounds on the number of images used; `undefined` = all. */
export interface SplitLimits {
  maxTrain?: number;
  maxTest?: number;
}

/** `n` evenly spaced items of `items` (all of them when `n ≥ length`), in their original order. */
export function evenlySpaced<T>(items: T[], n: number): T[] {
  if (n >= items.length) return items;
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

/**
 * Applies `limits` to a split: the training set evenly spaced; the test set evenly spaced within normal
 * and anomalous images separately, in proportion (at least one of each when both exist), re-sorted by
 * the original order.
 *
 * @example
 * ```ts
 * const small = subsampleSplit(split, { maxTrain: 500, maxTest: 1000 });
 * ```
 */
export function subsampleSplit(split: CategorySplit, limits: SplitLimits): CategorySplit {
  const { maxTrain, maxTest } = limits;
  for (const [name, v] of [["maxTrain", maxTrain], ["maxTest", maxTest]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 2)) {
      throw new RangeError(`${name} must be an integer ≥ 2, got ${v}`);
    }
  }
  const train = maxTrain === undefined ? split.train : evenlySpaced(split.train, maxTrain);
  let test = split.test;
  if (maxTest !== undefined && maxTest < split.test.length) {
    const order = new Map<ImageSample, number>(split.test.map((s, i) => [s, i]));
    const normal = split.test.filter((s) => s.label === 0);
    const anomalous = split.test.filter((s) => s.label === 1);
    let nNormal = Math.round((maxTest * normal.length) / split.test.length);
    if (normal.length > 0) nNormal = Math.max(1, nNormal);
    if (anomalous.length > 0) nNormal = Math.min(nNormal, maxTest - 1);
    test = [...evenlySpaced(normal, nNormal), ...evenlySpaced(anomalous, maxTest - nNormal)]
      .sort((a, b) => order.get(a)! - order.get(b)!);
  }
  return { ...split, train, test };
}
