/**
 * Image-level anomaly scores from a model's raw forward outputs ({@linkcode RawScores}). Larger = more
 * anomalous, always. The score names are defined in `src/core/models.ts`; this is their arithmetic.
 *
 * VT-ADL scores (`docs/original-code.md`, image scores):
 * - `code`: MSE + SSIM + max patch NLL, weights 1/1/1, SSIM with a **plus** sign as test.py:143 computes
 *   it (`MSE − (−SSIM)`), so a better reconstruction raises the score.
 * - `paper`: MSE + (1 − SSIM) + max patch NLL: the paper's "combination of reconstruction losses and the
 *   maximum of the log-likelihood loss" with the sign that makes a worse reconstruction more anomalous.
 * - `nll`: max patch NLL only.
 * - `recon`: MSE + (1 − SSIM), the global reconstruction losses only: what the paper says it uses on MNIST
 *   (Sec. V.B).
 *
 * Autoencoder baselines (Bergmann et al. 2019): `mse` = mean squared reconstruction error,
 * `ssim` = 1 − SSIM.
 *
 * @module
 */
import type { RawScores } from "../train/score.ts";
import { type ImageScoreName, PATCH_NLL_SCORES } from "../core/models.ts";

export type { RawScores };

/** Largest value of a non-empty array. */
function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/**
 * The image anomaly score of one image named `score`.
 *
 * @example
 * ```ts
 * imageScore({ mse: 0.1, ssim: 0.8, patchNll: Float32Array.of(5, 9), gridSize: 1, ... }, "code"); // 9.9
 * ```
 */
export function imageScore(raw: RawScores, score: ImageScoreName): number {
  if (PATCH_NLL_SCORES.includes(score) && (raw.patchNll === null || raw.patchNll.length === 0)) {
    throw new Error(
      `image score '${score}' needs per-patch NLL, which this model does not produce; use 'recon', 'mse' or 'ssim'`,
    );
  }
  switch (score) {
    case "code":
      return raw.mse + raw.ssim + maxOf(raw.patchNll!); // test.py:143: MSE − (−SSIM) + max NLL
    case "paper":
      return raw.mse + (1 - raw.ssim) + maxOf(raw.patchNll!);
    case "nll":
      return maxOf(raw.patchNll!);
    case "recon":
      return raw.mse + (1 - raw.ssim);
    case "mse":
      return raw.mse;
    case "ssim":
      return 1 - raw.ssim;
  }
}

/** Scores every image; throws naming the image index when a score is not finite. */
export function imageScores(raws: RawScores[], score: ImageScoreName): Float64Array {
  const out = new Float64Array(raws.length);
  for (let i = 0; i < raws.length; i++) {
    out[i] = imageScore(raws[i], score);
    if (!Number.isFinite(out[i])) {
      throw new Error(
        `image score '${score}' of test image ${i} is ${out[i]}: the model produced non-finite outputs`,
      );
    }
  }
  return out;
}
