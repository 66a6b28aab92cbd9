/**
 * Image anomaly scores derived from a pixel anomaly map, in the two forms published numbers use:
 *
 * - {@linkcode mapMaxScore}: the largest pixel score. The official MVTec AD evaluation
 *   (`evaluate_experiment.py`: `np.max(anomaly_map)`), cflow-ad (`np.max(super_mask, axis=(1, 2))`) and
 *   ADer without pooling use it.
 * - {@linkcode pooledMapMaxScore}: the largest mean over a k×k window (`F.avg_pool2d(map, k, stride=1)`
 *   then the maximum), ADer's `Evaluator(pooling_ks=[16, 16])` (`zhangzjn/ADer` `util/metric.py`, set to 16
 *   in most of its configs). It damps isolated hot pixels, so it can change image AUROC noticeably.
 *
 * @module
 */
import type { ScoreMap } from "./types.ts";

function checkMap(map: ScoreMap, what: string): void {
  if (map.data.length !== map.width * map.height || map.width < 1 || map.height < 1) {
    throw new RangeError(`${what}: map of ${map.width}×${map.height} holds ${map.data.length} values`);
  }
}

/**
 * The largest score of the map; throws on NaN or infinity (naming the pixel).
 *
 * @example
 * ```ts
 * mapMaxScore({ width: 2, height: 1, data: Float32Array.of(0.2, 0.7) }); // 0.699999988079071
 * ```
 */
export function mapMaxScore(map: ScoreMap): number {
  checkMap(map, "mapMaxScore");
  let max = -Infinity;
  const d = map.data;
  for (let p = 0; p < d.length; p++) {
    const v = d[p];
    if (!Number.isFinite(v)) throw new RangeError(`mapMaxScore: pixel ${p} is ${v}; maps must be finite`);
    if (v > max) max = v;
  }
  return max;
}

/**
 * The largest mean of any `kernel`×`kernel` window fully inside the map (average pooling with stride 1 and
 * no padding, then the maximum), as ADer scores images with `pooling_ks=[16, 16]`. Window sums come from a
 * float64 summed-area table. Throws when the map is smaller than the window, as `avg_pool2d` does.
 *
 * @example
 * ```ts
 * // 3×3 map, 2×2 windows: means 0.25, 0.25, 1, 1.25 → 1.25
 * pooledMapMaxScore({ width: 3, height: 3, data: Float64Array.of(0, 0, 0, 0, 1, 0, 0, 3, 1) }, { kernel: 2 });
 * ```
 */
export function pooledMapMaxScore(map: ScoreMap, { kernel = 16 }: { kernel?: number } = {}): number {
  checkMap(map, "pooledMapMaxScore");
  const { width: w, height: h, data } = map;
  if (!Number.isInteger(kernel) || kernel < 1) {
    throw new RangeError(`pooledMapMaxScore: kernel ${kernel} is not a positive integer`);
  }
  if (kernel > w || kernel > h) {
    throw new RangeError(`pooledMapMaxScore: a ${kernel}×${kernel} window does not fit a ${w}×${h} map`);
  }
  const sat = new Float64Array((w + 1) * (h + 1)); // sat[(y+1)(w+1) + x+1] = Σ data[0..y][0..x]
  for (let y = 0; y < h; y++) {
    let row = 0;
    for (let x = 0; x < w; x++) {
      const v = data[y * w + x];
      if (!Number.isFinite(v)) {
        throw new RangeError(`pooledMapMaxScore: pixel ${y * w + x} is ${v}; maps must be finite`);
      }
      row += v;
      sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row;
    }
  }
  let best = -Infinity;
  for (let y = 0; y + kernel <= h; y++) {
    for (let x = 0; x + kernel <= w; x++) {
      const sum = sat[(y + kernel) * (w + 1) + x + kernel] - sat[y * (w + 1) + x + kernel] -
        sat[(y + kernel) * (w + 1) + x] + sat[y * (w + 1) + x];
      if (sum > best) best = sum;
    }
  }
  return best / (kernel * kernel);
}
