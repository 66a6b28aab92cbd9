/**
 * Deterministic synthetic anomaly maps and masks at MVTec scale, shared by the AU-PRO and `evaluate`
 * benchmarks: a smooth background plus uniform noise, raised (by 0.6 unless told) inside elliptic defects.
 *
 * @module
 */
import type { MaskMap, ScoreMap } from "../src/metrics/mod.ts";

/** Deterministic xorshift32 in [0, 1). */
export function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

/**
 * One synthetic map (smooth background + noise, raised inside defects) and its mask: image `index` of a
 * set drawn from `random`; odd indices get 1–3 elliptic defects (mask 255), even ones none. Scores inside
 * a defect are raised by `lift`.
 */
export function syntheticPair(
  random: () => number,
  index: number,
  size: number,
  lift = 0.6,
): { map: ScoreMap; mask: MaskMap } {
  const data = new Float32Array(size * size);
  const mask = new Uint8Array(size * size);
  if (index % 2 === 1) {
    const defects = 1 + Math.floor(random() * 3);
    for (let d = 0; d < defects; d++) {
      const cx = random() * size, cy = random() * size;
      const rx = 4 + random() * size / 10, ry = 4 + random() * size / 10;
      const x0 = Math.max(0, Math.floor(cx - rx)), x1 = Math.min(size - 1, Math.ceil(cx + rx));
      const y0 = Math.max(0, Math.floor(cy - ry)), y1 = Math.min(size - 1, Math.ceil(cy + ry));
      for (let y = y0; y <= y1; y++) {
        for (let x = x0; x <= x1; x++) {
          if (((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2 <= 1) mask[y * size + x] = 255;
        }
      }
    }
  }
  const phase = random() * 6.28;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const p = y * size + x;
      data[p] = 0.3 * Math.sin(x / 97 + phase) * Math.cos(y / 61) + random() + (mask[p] ? lift : 0);
    }
  }
  return { map: { width: size, height: size, data }, mask: { width: size, height: size, data: mask } };
}

/** Synthetic maps and masks ({@linkcode syntheticPair}), deterministic for a seed. */
export function syntheticSet(images: number, size: number, seed = 1): { maps: ScoreMap[]; masks: MaskMap[] } {
  const random = rng(seed);
  const maps: ScoreMap[] = [], masks: MaskMap[] = [];
  for (let i = 0; i < images; i++) {
    const { map, mask } = syntheticPair(random, i, size);
    maps.push(map);
    masks.push(mask);
  }
  return { maps, masks };
}
