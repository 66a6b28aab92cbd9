/**
 * Pixel-level ROC-AUC pooled over every pixel of every image (normal and anomalous images alike), the
 * quantity VT-ADL's `test.py` computes with `roc_auc_score(masks.flatten(), scores.flatten())` and prints
 * as "PRO" (docs/metrics.md §3 and §5). Float32 maps are ordered by bit pattern in buckets (see
 * `score_keys.ts`), so 10⁸ pixels need no argsort.
 *
 * @module
 */
import { checkMapsAndMasks, nonFiniteScoreError, pooledPixelCounts } from "./validate.ts";
import { BUCKETS } from "./score_keys.ts";
import { PooledPixelIndex } from "./pixel_index.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/**
 * Pooled pixel ROC-AUC (Mann–Whitney, ties ½) of all map scores against all mask pixels (non-zero =
 * defect). Throws when no pixel, or every pixel, is a defect pixel, on non-finite scores (naming image
 * and pixel) and on size mismatches.
 *
 * @example
 * ```ts
 * const map = { width: 3, height: 1, data: new Float32Array([0.9, 0.2, 0.1]) };
 * const mask = { width: 3, height: 1, data: new Uint8Array([255, 0, 0]) };
 * pixelAuroc([map], [mask]); // 1
 * ```
 */
export function pixelAuroc(maps: ScoreMap[], masks: MaskMap[]): number {
  checkMapsAndMasks(maps, masks, "pixelAuroc");
  if (maps.every((m) => m.data instanceof Float32Array)) {
    const index = new PooledPixelIndex(maps, masks);
    if (index.nDefect > 0 && index.nNormal > 0) {
      index.record({ normalFrom: BUCKETS, normalWhereDefect: true, defectFrom: 0, weighted: false });
    }
    return pixelAurocOfIndex(index);
  }
  const { defect, total } = pooledPixelCounts(maps, masks);
  if (defect === 0 || defect === total) throw oneClassError(defect, total);
  const auc = new MannWhitney(total - defect);
  walkGeneral(maps, masks, (neg, pos) => auc.add(neg, pos));
  return auc.value(defect);
}

/**
 * Pooled pixel AUROC of an index whose defect pixels are all recorded, and whose normal pixels are
 * recorded at least in every bucket that holds a defect pixel. Throws without both classes.
 */
export function pixelAurocOfIndex(index: PooledPixelIndex): number {
  if (index.nDefect === 0 || index.nNormal === 0) {
    throw oneClassError(index.nDefect, index.nDefect + index.nNormal);
  }
  const auc = new MannWhitney(index.nNormal);
  index.walk((neg, pos) => auc.add(neg, pos));
  return auc.value(index.nDefect);
}

/**
 * Mann–Whitney 2U from tie groups visited from the highest score down: normals strictly below a group =
 * all − seen − this group. 2U is an integer below 2⁵³, so the sum is exact in any grouping.
 */
class MannWhitney {
  #twiceU = 0;
  #normalSeen = 0;
  constructor(readonly nNormal: number) {}
  add(neg: number, pos: number): void {
    this.#twiceU += pos * (2 * (this.nNormal - this.#normalSeen - neg) + neg);
    this.#normalSeen += neg;
  }
  value(nDefect: number): number {
    return this.#twiceU / (2 * nDefect * this.nNormal);
  }
}

/**
 * What VT-ADL's `test.py` prints as "PRO": pixel ROC-AUC pooled over all test images — **not** the
 * per-region overlap. Report it as "VT-ADL-code PRO (= pixel ROC-AUC, all images)", beside true AU-PRO.
 */
export const vtadlCodePro: typeof pixelAuroc = pixelAuroc;

function oneClassError(defect: number, total: number): RangeError {
  const which = defect === 0 ? "no mask has a defect pixel" : "every pixel is a defect pixel";
  return new RangeError(
    `pixelAuroc: ${which} (${defect} of ${total} pixels); pixel AUROC is undefined without both classes`,
  );
}

/** Totals of a pooled pixel population. */
export interface PooledCounts {
  /** Pixels with a non-zero mask value. */
  defect: number;
  /** Pixels with mask value 0. */
  normal: number;
}

/**
 * Walks every distinct pixel score of all maps from the highest down, calling `visit(normal, defect)` with
 * the number of mask-0 and mask-non-0 pixels holding exactly that score: the one ordering that pooled
 * pixel metrics (ROC-AUC, F1-max) need. Float32 maps are ordered by bit pattern in buckets, others by a
 * sort. Throws on non-finite scores (naming image and pixel) and on size mismatches.
 *
 * @example
 * ```ts
 * walkPooledScores([map], [mask], (normal, defect) => { tp += defect; fp += normal; });
 * ```
 */
export function walkPooledScores(
  maps: ScoreMap[],
  masks: MaskMap[],
  visit: (normal: number, defect: number) => void,
  metric = "walkPooledScores",
): PooledCounts {
  checkMapsAndMasks(maps, masks, metric);
  const float32 = maps.every((m) => m.data instanceof Float32Array);
  return float32 ? walkFloat32(maps, masks, visit) : walkGeneral(maps, masks, visit);
}

function walkFloat32(
  maps: ScoreMap[],
  masks: MaskMap[],
  visit: (normal: number, defect: number) => void,
): PooledCounts {
  const index = new PooledPixelIndex(maps, masks);
  index.record({ normalFrom: 0, normalWhereDefect: false, defectFrom: 0, weighted: false });
  index.walk(visit);
  return { defect: index.nDefect, normal: index.nNormal };
}

function walkGeneral(
  maps: ScoreMap[],
  masks: MaskMap[],
  visit: (normal: number, defect: number) => void,
): PooledCounts {
  let total = 0;
  for (const m of maps) total += m.data.length;
  const scores = new Float64Array(total), labels = new Uint8Array(total);
  let o = 0, nDefect = 0;
  for (let i = 0; i < maps.length; i++) {
    const data = maps[i].data, mask = masks[i].data;
    for (let p = 0; p < data.length; p++, o++) {
      if (!Number.isFinite(data[p])) throw nonFiniteScoreError(i, maps[i], p);
      scores[o] = data[p];
      labels[o] = mask[p] === 0 ? 0 : 1;
      nDefect += labels[o];
    }
  }
  const order = new Uint32Array(total).map((_, i) => i);
  order.sort((a, b) => scores[b] - scores[a]);
  for (let k = 0; k < total;) {
    const s = scores[order[k]];
    let neg = 0, pos = 0;
    for (; k < total && scores[order[k]] === s; k++) {
      if (labels[order[k]] === 1) pos++;
      else neg++;
    }
    visit(neg, pos);
  }
  return { defect: nDefect, normal: total - nDefect };
}
