/**
 * Everything the harness knows about each model, in one place: its name and label, the config family it
 * uses, the image scores it can produce and the one its config asks for, the kind of anomaly map it
 * makes, and how to build its network. Every other module asks {@linkcode MODELS} instead of branching on
 * a model's name.
 *
 * This file is the one place in `src/core/` that reaches into `src/models/`: `build` names the network
 * class. The image-score and anomaly-map vocabularies are defined here; their arithmetic lives in
 * `src/eval/image_score.ts` and `src/eval/evaluate.ts`.
 *
 * @module
 */
import { z } from "zod";
import type { AutoencoderConfig, ModelConfig, VtadlConfig } from "../models/configs.ts";
import type { Network } from "../models/network.ts";
import type { ParamSpec } from "../models/params.ts";
import { VtAdl, vtadlParamSpecs } from "../models/vtadl.ts";
import { autoencoderParamSpecs, ConvAutoencoder } from "../models/autoencoder.ts";
import type { RandomStream } from "../util/rng.ts";

/** The three models the paper compares, in table order. */
export const MODEL_NAMES = ["vtadl", "ae-mse", "ae-ssim"] as const;

/** Validates a model name (zod). */
export const ModelNameSchema = z.enum(MODEL_NAMES);

/** A model name. */
export type ModelName = z.infer<typeof ModelNameSchema>;

/**
 * Image scores (larger = more anomalous), `docs/original-code.md` §7:
 * - `code`: MSE + SSIM + max patch NLL, the sign test.py:143 uses;
 * - `paper`: MSE + (1 − SSIM) + max patch NLL;
 * - `nll`: max patch NLL;
 * - `recon`: MSE + (1 − SSIM), the paper's MNIST score (Sec. V.B);
 * - `mse`: mean squared reconstruction error (AE MSE);
 * - `ssim`: 1 − SSIM (AE MSE+SSIM).
 */
export const IMAGE_SCORES = ["code", "paper", "nll", "recon", "mse", "ssim"] as const;

/** An image score's name (recorded in every run record). */
export type ImageScoreName = typeof IMAGE_SCORES[number];

/** Image scores that need VT-ADL's per-patch NLL. */
export const PATCH_NLL_SCORES: readonly ImageScoreName[] = ["code", "paper", "nll"];

/**
 * How a pixel anomaly map is made: VT-ADL's upsampled patch NLL, or an autoencoder's per-pixel squared
 * error or 1 − SSIM.
 */
export const ANOMALY_MAPS = ["patchNll", "error", "oneMinusSsim"] as const;

/** An anomaly-map kind. */
export type AnomalyMapKind = typeof ANOMALY_MAPS[number];

/** Everything the harness knows about one model. */
export interface ModelSpec<C extends ModelConfig = ModelConfig> {
  name: ModelName;
  /** Label in tables, e.g. `AE MSE+SSIM`. */
  label: string;
  /** Which config schema and named configs it uses. */
  family: "vtadl" | "autoencoder";
  /** The pixel anomaly map it produces. */
  anomalyMap: AnomalyMapKind;
  /** Image scores `--score` may choose for it (the first is what an AE always uses). */
  imageScores: readonly ImageScoreName[];
  /** The image score its config asks for. */
  defaultImageScore(config: C): ImageScoreName;
  /** Gaussian σ of its heat maps under this config (0: none). */
  heatmapSigma(config: C): number;
  /** Builds the network with fresh weights drawn from `init` (the run's `init` stream). */
  build(config: C, init: RandomStream): Network;
  /** Its parameters in declaration order, from shapes only (nothing is allocated). */
  paramSpecs(config: C): ParamSpec[];
}

const VTADL: ModelSpec<VtadlConfig> = {
  name: "vtadl",
  label: "VT-ADL",
  family: "vtadl",
  anomalyMap: "patchNll",
  imageScores: ["code", "paper", "nll", "recon"],
  defaultImageScore(config) {
    if (config.imageScore === "reconstruction") return "recon"; // the paper's MNIST score
    return config.imageScoreSsim === "oneMinus" ? "paper" : "code";
  },
  heatmapSigma: (config) => config.heatmapSigma,
  build: (config, init) => new VtAdl(config, init),
  paramSpecs: vtadlParamSpecs,
};

/** The autoencoder baselines score with their own loss: `mse`, or 1 − SSIM. */
function autoencoder(name: "ae-mse" | "ae-ssim", label: string): ModelSpec<AutoencoderConfig> {
  const score = name === "ae-mse" ? "mse" : "ssim";
  return {
    name,
    label,
    family: "autoencoder",
    anomalyMap: score === "mse" ? "error" : "oneMinusSsim",
    imageScores: [score],
    defaultImageScore: () => score,
    heatmapSigma: () => 0,
    build: (config, init) => new ConvAutoencoder(config, init),
    paramSpecs: autoencoderParamSpecs,
  };
}

/**
 * Every model's spec, by name.
 *
 * @example
 * ```ts
 * MODELS["ae-ssim"].anomalyMap; // "oneMinusSsim"
 * ```
 */
export const MODELS: {
  readonly vtadl: ModelSpec<VtadlConfig>;
  readonly "ae-mse": ModelSpec<AutoencoderConfig>;
  readonly "ae-ssim": ModelSpec<AutoencoderConfig>;
} = {
  vtadl: VTADL,
  "ae-mse": autoencoder("ae-mse", "AE MSE"),
  "ae-ssim": autoencoder("ae-ssim", "AE MSE+SSIM"),
};

/** The models whose configs use the autoencoder schema. */
export const AUTOENCODER_NAMES = MODEL_NAMES.filter((m) => MODELS[m].family === "autoencoder") as [
  "ae-mse",
  "ae-ssim",
];

/**
 * The spec of the model a config is for, typed for that config.
 *
 * @example
 * ```ts
 * const net = modelOf(config).build(config, RandomStream.derive(0, "init"));
 * ```
 */
export function modelOf(config: ModelConfig): ModelSpec<ModelConfig> {
  return MODELS[config.model] as ModelSpec<ModelConfig>;
}

/** The default image score of a config's model. */
export function defaultImageScore(config: ModelConfig): ImageScoreName {
  return modelOf(config).defaultImageScore(config);
}

/** The heat-map σ of a config's model (0 for the autoencoders). */
export function heatmapSigmaOf(config: ModelConfig): number {
  return modelOf(config).heatmapSigma(config);
}
