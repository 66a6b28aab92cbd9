/**
 * Analytic FLOP counts (FLOPs = 2·MAC) of one image's forward pass, counted as docs/original-code.md
 * §11 does (matmuls and convolutions only; elementwise work is ignored). A training step is estimated as
 * 3× the forward pass including SSIM (≈ 37 GFLOPs for `code`, docs/original-code.md §11), used for achieved GFLOP/s.
 *
 * @module
 */
import type { ModelConfig } from "./configs.ts";
import { autoencoderLayers } from "./autoencoder.ts";
import { convTransposeOutSize } from "./layers.ts";
import { decoderLayers } from "./vtadl.ts";

/** Forward FLOPs of one image per part, plus the SSIM term and the training-step estimate. */
export interface FlopCounts {
  encoder: number;
  projection: number;
  decoder: number;
  mdn: number;
  /** Model forward (encoder + projection + decoder + MDN). */
  forward: number;
  /** SSIM: 5 depthwise 11×11 convolutions over H·W·3. */
  ssim: number;
  /** ≈ 3 × (forward + ssim): forward, input gradients and weight gradients. */
  trainStep: number;
}

/**
 * FLOPs for one image under `config`.
 *
 * @example
 * ```ts
 * flopCounts(resolveConfig("vtadl", "code")).forward / 1e9; // ≈ 12.18
 * ```
 */
export function flopCounts(config: ModelConfig): FlopCounts {
  const s = config.imageSize;
  const ssim = 2 * 5 * 121 * s * s * 3;
  let encoder = 0, projection = 0, decoder = 0, mdn = 0;
  if (config.model === "vtadl") {
    const { dim: d, depth, mlpDim, patchSize: p, numGaussians: k, heads } = config;
    const n = (s / p) ** 2;
    const t = n + 1; // with the class token
    encoder = n * p * p * 3 * d; // patch embedding
    encoder += depth * (t * d * 3 * d + 2 * heads * t * t * (d / heads) + t * d * d + 2 * t * d * mlpDim);
    projection = n * d * config.projectionDim;
    let size = config.decoder === "code" ? 8 : config.decoderSeedSize;
    for (const layer of decoderLayers(config)) {
      decoder += layer.cin * layer.cout * layer.kernel ** 2 * size * size;
      size = convTransposeOutSize(layer, size);
    }
    mdn = n * d * (k + 2 * d * k);
  } else {
    let size = s;
    for (const layer of autoencoderLayers(config)) {
      const macsPerOut = layer.kernel ** 2 * layer.cin * layer.cout;
      if (layer.kind === "conv") {
        size = layer.pad === "valid" ? size - layer.kernel + 1 : Math.ceil(size / layer.stride);
        encoderOrDecoder(layer.part, macsPerOut * size * size);
      } else {
        // Transposed convolution: every input pixel scatters a k×k×cout patch.
        encoderOrDecoder(layer.part, macsPerOut * size * size);
        size = layer.pad === "valid" ? (size - 1) * layer.stride + layer.kernel : size * layer.stride;
      }
    }
  }
  function encoderOrDecoder(part: string, macs: number) {
    if (part === "encoder") encoder += macs;
    else decoder += macs;
  }
  const forward = 2 * (encoder + projection + decoder + mdn);
  return {
    encoder: 2 * encoder,
    projection: 2 * projection,
    decoder: 2 * decoder,
    mdn: 2 * mdn,
    forward,
    ssim,
    trainStep: 3 * (forward + ssim),
  };
}
