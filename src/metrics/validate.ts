/**
 * Input checks shared by the metric functions. Every error is one line naming the offending input
 * (image index, pixel index) and what was expected; nothing is silently turned into NaN.
 *
 * @module
 */
import type { MaskMap, ScoreMap } from "./types.ts";

/** Class counts of a validated label vector. */
export interface LabelCounts {
  /** Number of label-1 (anomalous) samples. */
  positives: number;
  /** Number of label-0 (normal) samples. */
  negatives: number;
}

/**
 * Checks image-level scores and 0/1 labels: same length, finite scores, labels exactly 0 or 1, and both
 * classes present (AUROC, AP and PR-AUC are undefined otherwise, as sklearn raises).
 */
export function checkScoresAndLabels(
  scores: ArrayLike<number>,
  labels: ArrayLike<number>,
  metric: string,
): LabelCounts {
  if (scores.length !== labels.length) {
    throw new RangeError(
      `${metric}: ${scores.length} scores but ${labels.length} labels; give one label per score`,
    );
  }
  let positives = 0;
  for (let i = 0; i < scores.length; i++) {
    const s = scores[i];
    if (typeof s !== "number" || !Number.isFinite(s)) {
      throw new RangeError(`${metric}: score ${i} is ${s}; scores must be finite numbers`);
    }
    const l = labels[i];
    if (l === 1) positives++;
    else if (l !== 0) {
      throw new RangeError(`${metric}: label ${i} is ${l}; labels must be 0 (normal) or 1 (anomalous)`);
    }
  }
  const negatives = scores.length - positives;
  if (positives === 0 || negatives === 0) {
    const only = positives === 0 ? "0 (normal)" : "1 (anomalous)";
    throw new RangeError(
      `${metric}: all ${scores.length} labels are ${only}; it is undefined unless both classes are present`,
    );
  }
  return { positives, negatives };
}

/** Throws the standard error for a non-finite map score at `pixel` of map `image`. */
export function nonFiniteScoreError(image: number, map: ScoreMap, pixel: number): RangeError {
  const row = Math.floor(pixel / map.width);
  const column = pixel - row * map.width;
  return new RangeError(
    `anomaly map ${image}: score at pixel ${pixel} (row ${row}, column ${column}) is ${
      map.data[pixel]
    }; anomaly maps must be finite (no NaN or infinity)`,
  );
}

/** Checks that maps and masks pair up: same count, positive integer sizes, equal sizes, right data length. */
export function checkMapsAndMasks(maps: ScoreMap[], masks: MaskMap[], metric: string): void {
  if (maps.length !== masks.length) {
    throw new RangeError(
      `${metric}: ${maps.length} anomaly maps but ${masks.length} masks; give one mask per map`,
    );
  }
  if (maps.length === 0) throw new RangeError(`${metric}: no anomaly maps given`);
  for (let i = 0; i < maps.length; i++) {
    const map = maps[i];
    const mask = masks[i];
    if (!Number.isInteger(map.width) || !Number.isInteger(map.height) || map.width < 1 || map.height < 1) {
      throw new RangeError(`${metric}: anomaly map ${i} has invalid size ${map.width}×${map.height}`);
    }
    if (map.data.length !== map.width * map.height) {
      throw new RangeError(
        `${metric}: anomaly map ${i} has ${map.data.length} values, expected ${map.width}×${map.height} = ${
          map.width * map.height
        }`,
      );
    }
    if (mask.width !== map.width || mask.height !== map.height) {
      throw new RangeError(
        `${metric}: anomaly map ${i} is ${map.width}×${map.height} (width×height) but its mask is ${mask.width}×${mask.height}; resize one to match`,
      );
    }
    if (mask.data.length !== mask.width * mask.height) {
      throw new RangeError(
        `${metric}: mask ${i} has ${mask.data.length} values, expected ${mask.width}×${mask.height} = ${
          mask.width * mask.height
        }`,
      );
    }
  }
}

/** The smallest and largest score over all maps; throws on NaN or infinity, naming image and pixel. */
export function finiteScoreRange(maps: ScoreMap[]): [number, number] {
  let min = Infinity, max = -Infinity;
  for (const [i, m] of maps.entries()) {
    for (let p = 0; p < m.data.length; p++) {
      const v = m.data[p];
      if (!Number.isFinite(v)) throw nonFiniteScoreError(i, m, p);
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  return [min, max];
}

/** Pixels over all maps, and how many of them have a non-zero mask value. */
export function pooledPixelCounts(maps: ScoreMap[], masks: MaskMap[]): { defect: number; total: number } {
  let total = 0, defect = 0;
  for (const [i, m] of masks.entries()) {
    total += maps[i].data.length;
    for (let p = 0; p < m.data.length; p++) if (m.data[p] !== 0) defect++;
  }
  return { defect, total };
}
