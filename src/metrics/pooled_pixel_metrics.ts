/**
 * Pixel AUROC and AU-PRO of the same maps from one ordering of their pooled pixels
 * (`pixel_index.ts`): one validation pass, one recording pass and one region labelling instead of one
 * each per metric. The numbers are those of {@linkcode pixelAuroc} and {@linkcode auPro} bit for bit:
 * the same keys are recorded in the same order, only once.
 *
 * @module
 */
import { checkMapsAndMasks } from "./validate.ts";
import { allFloat32, PooledPixelIndex } from "./pixel_index.ts";
import { pixelAuroc, pixelAurocOfIndex } from "./pixel.ts";
import {
  auPro,
  auProOfIndex,
  type AuProOptions,
  type AuProResult,
  auProSettings,
  checkPixelTotal,
  lowestCurveBucket,
} from "./pro.ts";
import type { MaskMap, ScoreMap } from "./types.ts";

/** What {@linkcode pooledPixelMetrics} returns. */
export interface PooledPixelMetrics {
  /** AU-PRO as {@linkcode auPro} returns it. */
  auPro: AuProResult;
  /** Pooled pixel AUROC; null when the masks do not hold both defect and normal pixels. */
  pixelAuroc: number | null;
}

/**
 * AU-PRO (official MVTec AD algorithm) and pooled pixel AUROC of `maps` against `masks` (non-zero =
 * defect), computed from one shared ordering when the scores are float32 values. Same errors as
 * {@linkcode auPro}.
 *
 * @example
 * ```ts
 * const map = { width: 3, height: 1, data: new Float32Array([0.9, 0.2, 0.1]) };
 * const mask = { width: 3, height: 1, data: new Uint8Array([255, 0, 0]) };
 * const { auPro, pixelAuroc } = pooledPixelMetrics([map], [mask]); // auPro.auPro 1, pixelAuroc 1
 * ```
 */
export function pooledPixelMetrics(
  maps: ScoreMap[],
  masks: MaskMap[],
  options: AuProOptions = {},
): PooledPixelMetrics {
  const settings = auProSettings(options);
  checkMapsAndMasks(maps, masks, "auPro");
  checkPixelTotal(maps, "auPro");
  if (!allFloat32(maps)) {
    const pro = auPro(maps, masks, options);
    const both = pro.nRegions > 0 && pro.nOkPixels > 0;
    return { auPro: pro, pixelAuroc: both ? pixelAuroc(maps, masks) : null };
  }
  const index = new PooledPixelIndex(maps, masks);
  const lowest = lowestCurveBucket(index, settings);
  const both = index.nNormal > 0 && index.nDefect > 0;
  // AU-PRO needs every key down to `lowest`; pixel AUROC every defect key and the normal keys that share
  // a bucket with one (the other buckets count as wholes).
  if (both) index.record({ normalFrom: lowest, normalWhereDefect: true, defectFrom: 0, weighted: true });
  return {
    auPro: auProOfIndex(index, lowest, masks, settings),
    pixelAuroc: both ? pixelAurocOfIndex(index) : null,
  };
}
