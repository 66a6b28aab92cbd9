/**
 * Image-level anomaly scores and pixel anomaly maps from a model's raw forward outputs
 * ({@linkcode RawScores}). Larger = more anomalous, always.
 *
 * VT-ADL variants (`vtadl-original-code.md` §7, §10 row 13):
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

export type { RawScores };

/** The image-score variants: the four VT-ADL ones and the two autoencoder ones. */
export const IMAGE_SCORE_VARIANTS = ["code", "paper", "nll", "recon", "mse", "ssim"] as const;

/** An image-score variant name (recorded in every run record). */
export type ImageScoreVariant = typeof IMAGE_SCORE_VARIANTS[number];

/** Which variants need per-patch NLL (VT-ADL only). */
const NEEDS_NLL: ReadonlySet<ImageScoreVariant> = new Set(["code", "paper", "nll"]);

/** Largest value of a non-empty array. */
function maxOf(values: ArrayLike<number>): number {
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) if (values[i] > max) max = values[i];
  return max;
}

/**
 * The image anomaly score of one image under `variant`.
 *
 * @example
 * ```ts
 * imageScore({ mse: 0.1, ssim: 0.8, patchNll: Float32Array.of(5, 9), gridSize: 1, ... }, "code"); // 9.9
 * ```
 */
export function imageScore(raw: RawScores, variant: ImageScoreVariant): number {
  if (NEEDS_NLL.has(variant) && (raw.patchNll === null || raw.patchNll.length === 0)) {
    throw new Error(
      `image score '${variant}' needs per-patch NLL, which this model does not produce; use 'recon', 'mse' or 'ssim'`,
    );
  }
  switch (variant) {
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
export function imageScores(raws: RawScores[], variant: ImageScoreVariant): Float64Array {
  const out = new Float64Array(raws.length);
  for (let i = 0; i < raws.length; i++) {
    out[i] = imageScore(raws[i], variant);
    if (!Number.isFinite(out[i])) {
      throw new Error(
        `image score '${variant}' of test image ${i} is ${out[i]}: the model produced non-finite outputs`,
      );
    }
  }
  return out;
}

/** How a pixel anomaly map is made from {@linkcode RawScores}. */
export type AnomalyMapKind = "patchNll" | "error" | "oneMinusSsim";

/** The config flags that choose VT-ADL's image score (src/models/configs.ts). */
export interface ImageScoreFlags {
  /** `combined` (reconstruction + max NLL) or `reconstruction` only (the paper's MNIST score). */
  imageScore?: string;
  /** `plus` (test.py:143's sign) or `oneMinus`. */
  imageScoreSsim?: string;
  /** `code`, `paper` or `harness`. */
  variant?: string;
}

/**
 * The image score a config asks for: VT-ADL's `imageScore: reconstruction` → `recon` (MNIST, paper
 * Sec. V.B); otherwise `imageScoreSsim: oneMinus` → `paper`, else `code`. Autoencoders score with their
 * own loss: `mse` (AE MSE) or `ssim` (1 − SSIM, AE SSIM).
 *
 * @example
 * ```ts
 * defaultImageScore("vtadl", { imageScore: "combined", imageScoreSsim: "plus" }); // "code"
 * ```
 */
export function defaultImageScore(
  model: "vtadl" | "ae-mse" | "ae-ssim",
  flags: ImageScoreFlags,
): ImageScoreVariant {
  if (model === "ae-mse") return "mse";
  if (model === "ae-ssim") return "ssim";
  if (flags.imageScore === "reconstruction") return "recon";
  if (flags.imageScoreSsim === "oneMinus") return "paper";
  if (flags.imageScoreSsim === undefined && flags.variant === "paper") return "paper";
  return "code";
}

/** The anomaly map kind each model produces: patch NLL for VT-ADL, the loss's own map for the AEs. */
export function anomalyMapKind(model: "vtadl" | "ae-mse" | "ae-ssim"): AnomalyMapKind {
  return model === "vtadl" ? "patchNll" : model === "ae-mse" ? "error" : "oneMinusSsim";
}
