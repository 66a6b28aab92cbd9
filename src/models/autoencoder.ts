/**
 * The convolutional autoencoder baseline of Bergmann et al. 2019 ("Improving Unsupervised Defect
 * Segmentation by Applying Structural Similarity to Autoencoders", Table 1), the paper's "AE MSE" and
 * "AE MSE+SSIM" rows.
 *
 * At 128×128 (Table 1), NHWC, LeakyReLU(0.2) after every layer but the latent and the output:
 *
 *   encoder: conv 32·4×4/2 → 32·4×4/2 → 32·3×3/1 → 64·4×4/2 → 64·3×3/1 → 128·4×4/2 → 64·3×3/1
 *            → 32·3×3/1 → latent 100·8×8 'valid' (8×8 → 1×1, linear)
 *   decoder: the mirror image: ConvT 32·8×8 (1×1 → 8×8) → 64·3×3 → 128·3×3 → ConvT 64·4×4/2 → 64·3×3
 *            → ConvT 32·4×4/2 → 32·3×3 → ConvT 32·4×4/2 → ConvT 3·4×4/2 + sigmoid
 *
 * Harness rules (documented choices where the source is silent or the size differs):
 * - image size 8·2^n: n stride-2 layers. n > 4 (e.g. 512: n = 6) inserts n − 4 extra conv 32·4×4/2
 *   after the first layer (and mirrored ConvT before the last); n < 4 (e.g. 32: n = 2) turns the first
 *   4 − n stride-2 layers (and their mirrors) into stride 1 with 'same' padding, so the parameter count
 *   is the same as at 128 for n ≤ 4.
 * - sigmoid output (targets are in [0, 1]); PyTorch default init U(±1/√fan_in); 'same' padding.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { AutoencoderConfig } from "./configs.ts";
import type { InferenceOutput, LossOutput, Network } from "./network.ts";
import { type Init, ParamScope, type ParamSpec, ParamStore } from "./params.ts";
import { ssimMean } from "./ssim.ts";
import type { RandomStream } from "../util/rng.ts";

/** One layer of the autoencoder. */
export interface AeLayer {
  kind: "conv" | "convT";
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  pad: "same" | "valid";
  activation: "leaky" | "none" | "sigmoid";
  part: "encoder" | "decoder";
}

function conv(cin: number, cout: number, kernel: number, stride: number): AeLayer {
  return { kind: "conv", cin, cout, kernel, stride, pad: "same", activation: "leaky", part: "encoder" };
}

/** Scales Table 1's channel counts by `channelScale` (the image's 3 channels stay). */
function scaled(layers: AeLayer[], scale: number): AeLayer[] {
  const ch = (c: number) => Math.max(1, Math.round(c * scale));
  return layers.map((l, i) => ({
    ...l,
    cin: i === 0 ? l.cin : ch(l.cin),
    cout: i === layers.length - 1 ? l.cout : ch(l.cout),
  }));
}

/** The layer list for a config (see the module doc for the size rule). */
export function autoencoderLayers(config: AutoencoderConfig): AeLayer[] {
  const n = Math.log2(config.imageSize / 8);
  const extra = Math.max(n - 4, 0);
  const flattened = Math.max(4 - n, 0); // first stride-2 layers that become stride 1
  // Strides of Table 1's four stride-2 layers, in order.
  const strides = [0, 1, 2, 3].map((i) => i < flattened ? 1 : 2);
  const d = config.latentDim;
  const table: AeLayer[] = [conv(3, 32, 4, strides[0])];
  for (let i = 0; i < extra; i++) table.push(conv(32, 32, 4, 2));
  table.push(
    conv(32, 32, 4, strides[1]),
    conv(32, 32, 3, 1),
    conv(32, 64, 4, strides[2]),
    conv(64, 64, 3, 1),
    conv(64, 128, 4, strides[3]),
    conv(128, 64, 3, 1),
    conv(64, 32, 3, 1),
    {
      kind: "conv",
      cin: 32,
      cout: d,
      kernel: 8,
      stride: 1,
      pad: "valid",
      activation: "none",
      part: "encoder",
    },
  );
  const encoder = scaled(table, config.channelScale).map((l, i, all) =>
    i === all.length - 1 ? { ...l, cout: d } : l
  );
  // Mirror: each encoder layer reversed; stride-2 (and flattened) convs ↔ transposed convs.
  const decoder: AeLayer[] = [];
  const body = encoder.slice(0, -1).reverse();
  decoder.push({
    kind: "convT",
    cin: d,
    cout: encoder[encoder.length - 1].cin,
    kernel: 8,
    stride: 1,
    pad: "valid",
    activation: "leaky",
    part: "decoder",
  });
  for (const layer of body) {
    const transposed = layer.kernel === 4;
    decoder.push({
      kind: transposed ? "convT" : "conv",
      cin: layer.cout,
      cout: layer.cin,
      kernel: layer.kernel,
      stride: layer.stride,
      pad: "same",
      activation: "leaky",
      part: "decoder",
    });
  }
  decoder[decoder.length - 1].activation = "sigmoid";
  return [...encoder, ...decoder];
}

/** One layer with its weights: filter and bias. */
interface AeLayerWeights {
  layer: AeLayer;
  w: ParamSpec;
  b: ParamSpec;
}

/**
 * Declares each layer's filter (conv [k, k, cin, cout], ConvT [k, k, cout, cin]) and bias, with PyTorch's
 * default init U(±1/√fan_in). Layers are numbered across the whole network (`decoder.layer9.w`).
 */
export function declareAutoencoderWeights(
  config: AutoencoderConfig,
  root: ParamScope = new ParamScope(),
): AeLayerWeights[] {
  return autoencoderLayers(config).map((layer, i) => {
    // PyTorch: fan_in = cin·k² for Conv2d, cout·k² for ConvTranspose2d (weight dim 1).
    const fanIn = (layer.kind === "conv" ? layer.cin : layer.cout) * layer.kernel ** 2;
    const init: Init = { kind: "uniform", bound: 1 / Math.sqrt(fanIn) };
    const shape = layer.kind === "conv"
      ? [layer.kernel, layer.kernel, layer.cin, layer.cout]
      : [layer.kernel, layer.kernel, layer.cout, layer.cin];
    const scope = root.scope(`${layer.part}.layer${i}`, layer.part);
    return { layer, w: scope.param("w", shape, init), b: scope.param("b", [layer.cout], init) };
  });
}

/** Every parameter of the autoencoder in declaration order (nothing is allocated). */
export function autoencoderParamSpecs(config: AutoencoderConfig): ParamSpec[] {
  const root = new ParamScope();
  declareAutoencoderWeights(config, root);
  return root.specs;
}

/** The convolutional autoencoder (`ae-mse`, `ae-ssim`). */
export class ConvAutoencoder implements Network {
  readonly config: AutoencoderConfig;
  readonly params: ParamStore;
  readonly gridSize = 0;
  readonly #layers: AeLayerWeights[];

  /** Builds the network with weights drawn from `initStream`. */
  constructor(config: AutoencoderConfig, initStream: RandomStream) {
    this.config = config;
    const root = new ParamScope();
    this.#layers = declareAutoencoderWeights(config, root);
    this.params = new ParamStore(root.specs, initStream);
  }

  /** The autoencoders train without noise. */
  noiseShape(): null {
    return null;
  }

  /** Reconstruction [B, H, W, 3]. */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    let h = x;
    for (const { layer, w: filter, b: bias } of this.#layers) {
      const w = this.params.value(filter) as tf.Tensor4D;
      const b = this.params.value(bias);
      if (layer.kind === "conv") {
        h = tf.conv2d(h, w, layer.stride, layer.pad);
      } else {
        const [batch, height, width] = h.shape;
        const out = layer.pad === "valid"
          ? (height - 1) * layer.stride + layer.kernel
          : height * layer.stride;
        const outW = layer.pad === "valid" ? (width - 1) * layer.stride + layer.kernel : width * layer.stride;
        h = tf.conv2dTranspose(h, w, [batch, out, outW, layer.cout], layer.stride, layer.pad);
      }
      h = tf.add(h, b);
      if (layer.activation === "leaky") h = tf.leakyRelu(h, this.config.leakySlope);
      else if (layer.activation === "sigmoid") h = tf.sigmoid(h);
    }
    return h;
  }

  /** MSE (ae-mse) or MSE + (1 − SSIM) (ae-ssim), weights from the config. */
  loss(x: tf.Tensor4D): LossOutput {
    const c = this.config;
    const recon = this.reconstruct(x);
    const mse = tf.mean(tf.squaredDifference(recon, x)) as tf.Scalar;
    const ssim = ssimMean(x, recon);
    const ssimTerm = c.ssimLoss === "negative" ? tf.neg(ssim) : tf.sub(1, ssim);
    const loss = tf.add(tf.mul(mse, c.lossMseWeight), tf.mul(ssimTerm, c.lossSsimWeight)) as tf.Scalar;
    return { loss, terms: { mse, ssim }, bnStats: [] };
  }

  /** Reconstruction only (no patch NLL). */
  infer(x: tf.Tensor4D): InferenceOutput {
    return { recon: this.reconstruct(x), patchNll: null };
  }

  /** No gradient accumulation. */
  accumulatesGradient(): boolean {
    return false;
  }

  /** No BatchNorm: nothing to fold. */
  updateBatchNormStatistics(): void {}

  /** Disposes every variable. */
  dispose(): void {
    this.params.dispose();
  }
}
