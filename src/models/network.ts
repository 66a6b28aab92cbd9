/**
 * What the trainer and scorer need from any model (VT-ADL or an autoencoder), the factory that builds
 * one from a config, and parameter counts per part computed from shapes alone.
 *
 * @module
 */
import type * as tf from "@tensorflow/tfjs-core";
import type { ModelConfig } from "./configs.ts";
import type { BatchNormStats } from "./layers.ts";
import type { ParamSpec, ParamStore } from "./params.ts";
import { countByPart } from "./params.ts";
import { modelOf } from "../core/models.ts";
import type { RandomStream } from "../util/rng.ts";

/** One training batch's loss, its named terms and the BatchNorm statistics to fold in afterwards. */
export interface LossOutput {
  loss: tf.Scalar;
  /** Named loss terms (before weighting), e.g. `mse`, `ssim`, `nll`. */
  terms: Record<string, tf.Scalar>;
  /** Batch statistics of each training-mode BatchNorm; kept outside any tidy scope, the caller disposes them. */
  bnStats: BatchNormStats[];
}

/** Forward-only outputs for scoring: no training noise, BatchNorm in inference mode. */
export interface InferenceOutput {
  /** [B, H, W, 3]. */
  recon: tf.Tensor4D;
  /** VT-ADL: per-patch NLL [B, grid²] in raster order; null for autoencoders. */
  patchNll: tf.Tensor2D | null;
}

/** A trainable anomaly-detection network. */
export interface Network {
  readonly config: ModelConfig;
  readonly params: ParamStore;
  /** Patches per side (0 for autoencoders). */
  readonly gridSize: number;
  /** Shape of the training-noise tensor for a batch of `batch` images, or null if the model uses none. */
  noiseShape(batch: number): number[] | null;
  /** Training loss of a batch x ∈ [0, 1]^{B×H×W×3}; `noise` has {@linkcode Network.noiseShape}. */
  loss(x: tf.Tensor4D, noise: tf.Tensor | null): LossOutput;
  /** Forward pass in inference mode. */
  infer(x: tf.Tensor4D): InferenceOutput;
  /** Whether the gradient of this parameter is accumulated across steps (VT-ADL `mdnGradAccumulate`). */
  accumulatesGradient(name: string): boolean;
  /** Folds a training step's BatchNorm batch statistics into the running statistics. */
  updateBatchNormStatistics(stats: BatchNormStats[]): void;
  dispose(): void;
}

/** Parameter specs of the network a config describes (nothing is allocated). */
export function paramSpecs(config: ModelConfig): ParamSpec[] {
  return modelOf(config).paramSpecs(config);
}

/** Parameter counts per part, the shape `model-summary` prints. */
export interface ParameterCounts {
  encoder: number;
  projection: number;
  decoder: number;
  mdn: number;
  total: number;
}

/**
 * Trainable parameter counts per part, from shapes only (cheap even for the 512² configs).
 *
 * @example
 * ```ts
 * parameterCounts(resolveConfig("vtadl", "code")).projection; // 16777216
 * ```
 */
export function parameterCounts(config: ModelConfig): ParameterCounts {
  const c = countByPart(paramSpecs(config), ["encoder", "projection", "decoder", "mdn"]);
  return { encoder: c.encoder, projection: c.projection, decoder: c.decoder, mdn: c.mdn, total: c.total };
}

/**
 * Builds a network with fresh weights drawn from `initStream` (the `init` stream of the run's seed).
 *
 * @example
 * ```ts
 * const net = buildNetwork(resolveConfig("vtadl", "smoke"), RandomStream.derive(1, "init"));
 * ```
 */
export function buildNetwork(config: ModelConfig, initStream: RandomStream): Network {
  return modelOf(config).build(config, initStream);
}
