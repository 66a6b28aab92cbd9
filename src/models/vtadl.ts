/**
 * VT-ADL (Mishra et al. 2021), written to read beside the paper (Sec. III-IV) and the public code
 * (docs/original-code.md, cited as file:line of pankajmishra000/VT-ADL).
 *
 *   image [B, H, W, 3] ∈ [0, 1]
 *     → patches [B, N, P·P·3] (p1, p2, c order)            student_transformer.py:95,114
 *     → ViT encoder (pre-LN, no final LN, class token dropped) → [B, N, D]      eq. (1)-(3)
 *     → + N(0, noiseStd²) in training                       VT_AE.py:51-52
 *     ├→ projection: Linear N·D → projectionDim (no bias) + squash   = the capsule layer, §2
 *     │    → decoder (ConvT + BN + ReLU, tanh last) → recon [B, H, W, 3]
 *     └→ MDN: π, μ, σ per patch → per-patch NLL [B, N]      mdn1.py
 *   loss = w_mse·MSE + w_ssim·(−SSIM or 1 − SSIM) + w_nll·mean_B Σ_patches NLL          eq. (9)
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { VtadlConfig } from "./configs.ts";
import {
  batchNorm,
  type BatchNormStats,
  convTranspose,
  type ConvTransposeSpec,
  dense,
  geluErf,
  layerNorm,
  squash,
  updateRunningStat,
} from "./layers.ts";
import type { InferenceOutput, LossOutput, Network } from "./network.ts";
import { type Init, ONES, ParamScope, type ParamSpec, ParamStore, ZEROS } from "./params.ts";
import { ssimMean } from "./ssim.ts";
import type { RandomStream } from "../util/rng.ts";

const LOG_2PI = Math.log(2 * Math.PI);
/** np.finfo(float).eps, the MDN input clamp of mdn1.py:35-36. */
const MDN_CLAMP = 2.220446049250313e-16;

/** A decoder layer: a transposed convolution, then BN + ReLU, or tanh for the last. */
interface DecoderLayer extends ConvTransposeSpec {
  activation: "bnRelu" | "tanh";
}

/** The original decoder2(8) of model_res18.py:18-43 (docs/original-code.md §3): 8×8×8 → 512×512×3. */
const CODE_DECODER: DecoderLayer[] = [
  { cin: 8, cout: 16, kernel: 3, stride: 2, crop: 1, activation: "bnRelu" }, // 8 → 15
  { cin: 16, cout: 32, kernel: 9, stride: 3, crop: 1, activation: "bnRelu" }, // 15 → 49
  { cin: 32, cout: 32, kernel: 7, stride: 5, crop: 1, activation: "bnRelu" }, // 49 → 245
  { cin: 32, cout: 16, kernel: 9, stride: 2, crop: 0, activation: "bnRelu" }, // 245 → 497
  { cin: 16, cout: 8, kernel: 6, stride: 1, crop: 0, activation: "bnRelu" }, // 497 → 502
  { cin: 8, cout: 3, kernel: 11, stride: 1, crop: 0, activation: "tanh" }, // 502 → 512
];

/**
 * Decoder layers of a config. `code`: the original six layers. `stride2` (harness rule for smaller
 * configs): one ConvT 4×4/2 (PyTorch padding 1, doubling the side) + BN + ReLU per entry of
 * `decoderChannels`, from the seed grid up to imageSize, then ConvT 3×3/1 (padding 1) to 3 channels + tanh.
 */
export function decoderLayers(config: VtadlConfig): DecoderLayer[] {
  if (config.decoder === "code") return CODE_DECODER;
  const layers: DecoderLayer[] = [];
  let cin = config.projectionDim / config.decoderSeedSize ** 2;
  for (const cout of config.decoderChannels) {
    layers.push({ cin, cout, kernel: 4, stride: 2, crop: 1, activation: "bnRelu" });
    cin = cout;
  }
  layers.push({ cin, cout: 3, kernel: 3, stride: 1, crop: 1, activation: "tanh" });
  return layers;
}

/** Seed grid side of the decoder input (code: the 512-vector viewed as 8×8×8). */
function seedSize(config: VtadlConfig): number {
  return config.decoder === "code" ? 8 : config.decoderSeedSize;
}

/** A LayerNorm's γ and β. */
interface LayerNormWeights {
  g: ParamSpec;
  b: ParamSpec;
}

/** A Linear layer's weight [in, out] and optional bias [out]. */
interface LinearWeights {
  w: ParamSpec;
  b?: ParamSpec;
}

/** One pre-LN transformer layer (student_transformer.py:74-90): attention and MLP, each behind a LayerNorm. */
interface EncoderLayerWeights {
  ln1: LayerNormWeights;
  /** to_qkv: D → 3D, no bias. */
  qkv: ParamSpec;
  out: LinearWeights;
  ln2: LayerNormWeights;
  ff1: LinearWeights;
  ff2: LinearWeights;
}

/** A decoder layer's transposed convolution and, but for the last, its BatchNorm. */
interface DecoderLayerWeights {
  layer: DecoderLayer;
  w: ParamSpec;
  b: ParamSpec;
  bn: { name: string; g: ParamSpec; b: ParamSpec; mean: ParamSpec; variance: ParamSpec } | null;
}

/** Every weight of VT-ADL, by block. */
export interface VtadlWeights {
  patch: LinearWeights;
  cls: ParamSpec;
  pos: ParamSpec;
  layers: EncoderLayerWeights[];
  projection: ParamSpec;
  decoder: DecoderLayerWeights[];
  /** Mixture heads (no bias): π logits D → K, μ and σ D → D·K (mdn1.py). */
  mdn: { pi: ParamSpec; mu: ParamSpec; sigma: ParamSpec };
}

/** ViT Linear layers: kaiming-normal weights, std √(2/fan_in). */
const kaiming = (fanIn: number): Init => ({ kind: "normal", std: Math.sqrt(2 / fanIn) });

function layerNormWeights(s: ParamScope, d: number): LayerNormWeights {
  return { g: s.param("g", [d], ONES), b: s.param("b", [d], ZEROS) };
}

function encoderLayerWeights(s: ParamScope, d: number, mlpDim: number): EncoderLayerWeights {
  return {
    ln1: layerNormWeights(s.scope("ln1"), d),
    qkv: s.param("qkv.w", [d, 3 * d], kaiming(d)),
    out: { w: s.param("out.w", [d, d], kaiming(d)), b: s.param("out.b", [d], ZEROS) },
    ln2: layerNormWeights(s.scope("ln2"), d),
    ff1: { w: s.param("ff1.w", [d, mlpDim], kaiming(d)), b: s.param("ff1.b", [mlpDim], ZEROS) },
    ff2: { w: s.param("ff2.w", [mlpDim, d], kaiming(mlpDim)), b: s.param("ff2.b", [d], ZEROS) },
  };
}

/** ConvT weights U(±1/√(cout·k²)) (PyTorch's default, not re-initialised by the code); BN γ 1, β 0. */
function decoderLayerWeights(s: ParamScope, layer: DecoderLayer): DecoderLayerWeights {
  const bound = 1 / Math.sqrt(layer.cout * layer.kernel * layer.kernel);
  const init: Init = { kind: "uniform", bound };
  const w = s.param("w", [layer.kernel, layer.kernel, layer.cout, layer.cin], init);
  const b = s.param("b", [layer.cout], init);
  if (layer.activation !== "bnRelu") return { layer, w, b, bn: null };
  const bn = s.scope("bn");
  return {
    layer,
    w,
    b,
    bn: {
      name: bn.name,
      g: bn.param("g", [layer.cout], ONES),
      b: bn.param("b", [layer.cout], ZEROS),
      mean: bn.state("mean", [layer.cout], 0),
      variance: bn.state("var", [layer.cout], 1),
    },
  };
}

/**
 * Declares every weight of VT-ADL, block by block, with its shape and initialisation (docs/original-code.md §1-§4):
 * class token and positions N(0, 1); projection N(0, 0.01²); MDN heads U(±1/√D).
 */
export function declareVtadlWeights(config: VtadlConfig, root: ParamScope = new ParamScope()): VtadlWeights {
  const { dim: d, depth, mlpDim, patchSize: p, imageSize, numGaussians: k } = config;
  const n = (imageSize / p) ** 2;
  const patchDim = p * p * 3;
  const encoder = root.scope("encoder", "encoder");
  const patch = {
    w: encoder.param("patch.w", [patchDim, d], kaiming(patchDim)),
    b: encoder.param("patch.b", [d], ZEROS),
  };
  const cls = encoder.param("cls", [1, 1, d], { kind: "normal", std: 1 });
  const pos = encoder.param("pos", [1, n + 1, d], { kind: "normal", std: 1 });
  const layers = Array.from(
    { length: depth },
    (_, l) => encoderLayerWeights(encoder.scope(`layer${l}`), d, mlpDim),
  );
  const projection = root.scope("projection", "projection").param("w", [n * d, config.projectionDim], {
    kind: "normal",
    std: 0.01,
  });
  const decoderScope = root.scope("decoder", "decoder");
  const decoder = decoderLayers(config).map((layer, i) =>
    decoderLayerWeights(decoderScope.scope(`layer${i}`), layer)
  );
  const mdnScope = root.scope("mdn", "mdn");
  const mdnInit: Init = { kind: "uniform", bound: 1 / Math.sqrt(d) };
  const mdn = {
    pi: mdnScope.param("pi.w", [d, k], mdnInit),
    mu: mdnScope.param("mu.w", [d, d * k], mdnInit),
    sigma: mdnScope.param("sigma.w", [d, d * k], mdnInit),
  };
  return { patch, cls, pos, layers, projection, decoder, mdn };
}

/** Every parameter of VT-ADL in declaration order (nothing is allocated). */
export function vtadlParamSpecs(config: VtadlConfig): ParamSpec[] {
  const root = new ParamScope();
  declareVtadlWeights(config, root);
  return root.specs;
}

/**
 * Cuts NHWC images into P×P patches, row-major over the grid, each flattened in (p1, p2, c) order
 * (channel fastest), as `Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')` (student_transformer.py:95).
 * [B, H, W, C] → [B, (H/P)·(W/P), P·P·C].
 */
export function patchify(x: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const [b, h, w, c] = x.shape;
  const p = patchSize;
  const t = tf.reshape(x, [b, h / p, p, w / p, p, c]);
  return tf.reshape(tf.transpose(t, [0, 1, 3, 2, 4, 5]), [b, (h / p) * (w / p), p * p * c]);
}

/** The VT-ADL network. */
export class VtAdl implements Network {
  readonly config: VtadlConfig;
  readonly params: ParamStore;
  readonly gridSize: number;
  readonly #w: VtadlWeights;

  /** Builds the network with weights drawn from `initStream`. */
  constructor(config: VtadlConfig, initStream: RandomStream) {
    this.config = config;
    this.gridSize = config.imageSize / config.patchSize;
    const root = new ParamScope();
    this.#w = declareVtadlWeights(config, root);
    this.params = new ParamStore(root.specs, initStream);
  }

  /** [B, N, D]: the noise added to the encoder output in training, or null when noiseStd is 0. */
  noiseShape(batch: number): number[] | null {
    return this.config.noiseStd > 0 ? [batch, this.gridSize ** 2, this.config.dim] : null;
  }

  #v(spec: ParamSpec): tf.Variable {
    return this.params.value(spec);
  }

  #linear(x: tf.Tensor, w: LinearWeights): tf.Tensor {
    return dense(x, this.#v(w.w), w.b && this.#v(w.b));
  }

  #layerNorm(x: tf.Tensor, w: LayerNormWeights): tf.Tensor {
    return layerNorm(x, this.#v(w.g), this.#v(w.b));
  }

  /** Multi-head self-attention (student_transformer.py:41-72). */
  #attention(x: tf.Tensor, w: EncoderLayerWeights): tf.Tensor {
    const { dim, heads } = this.config;
    const [b, t] = x.shape;
    const headDim = dim / heads;
    const qkv = dense(x, this.#v(w.qkv));
    const [q, k, v] = tf.split(qkv, 3, -1).map((part) =>
      tf.transpose(tf.reshape(part, [b, t, heads, headDim]), [0, 2, 1, 3]) as tf.Tensor4D
    );
    // code: scale = dim ** -0.5 with dim = 512 (student_transformer.py:45), not 1/√(head dim).
    const scale = this.config.attentionScale === "dim" ? 1 / Math.sqrt(dim) : 1 / Math.sqrt(headDim);
    const attn = tf.softmax(tf.mul(tf.matMul(q, k, false, true), scale));
    const out = tf.reshape(tf.transpose(tf.matMul(attn, v), [0, 2, 1, 3]), [b, t, dim]);
    return this.#linear(out, w.out);
  }

  /** ViT encoder: [B, H, W, 3] → [B, N, D] (class token dropped, no final LayerNorm). */
  encode(x: tf.Tensor4D): tf.Tensor3D {
    const b = x.shape[0];
    const tokens = this.#linear(patchify(x, this.config.patchSize), this.#w.patch);
    const cls = tf.tile(this.#v(this.#w.cls), [b, 1, 1]);
    let h: tf.Tensor = tf.add(tf.concat([cls, tokens], 1), this.#v(this.#w.pos));
    for (const layer of this.#w.layers) {
      h = tf.add(h, this.#attention(this.#layerNorm(h, layer.ln1), layer));
      const ff = this.#linear(geluErf(this.#linear(this.#layerNorm(h, layer.ln2), layer.ff1)), layer.ff2);
      h = tf.add(h, ff);
    }
    const n = this.gridSize ** 2;
    return tf.slice(h, [0, 1, 0], [b, n, this.config.dim]) as tf.Tensor3D;
  }

  /** Capsule layer in closed form (docs/original-code.md §2): flatten → Linear N·D → projectionDim (no bias) → squash. */
  project(encoded: tf.Tensor3D): tf.Tensor2D {
    const [b, n, d] = encoded.shape;
    const s = tf.matMul(tf.reshape(encoded, [b, n * d]), this.#v(this.#w.projection) as tf.Tensor2D);
    return squash(s, this.config.squashEpsilon) as tf.Tensor2D;
  }

  /** Decoder: the vector viewed as NCHW (C, s, s), moved to NHWC, then the ConvT stack. */
  decode(vector: tf.Tensor2D, training: boolean, stats: BatchNormStats[]): tf.Tensor4D {
    const b = vector.shape[0];
    const s = seedSize(this.config);
    const c = this.config.projectionDim / (s * s);
    let h = tf.transpose(tf.reshape(vector, [b, c, s, s]), [0, 2, 3, 1]) as tf.Tensor4D;
    for (const { layer, w, b: bias, bn } of this.#w.decoder) {
      h = convTranspose(h, layer, this.#v(w), this.#v(bias));
      if (bn === null) {
        h = tf.tanh(h);
        continue;
      }
      const params = {
        gamma: this.#v(bn.g),
        beta: this.#v(bn.b),
        runningMean: this.#v(bn.mean),
        runningVar: this.#v(bn.variance),
      };
      h = tf.relu(batchNorm(h, params, training, bn.name, stats));
    }
    return h;
  }

  /** Folds a training step's batch statistics into the BatchNorm running statistics. */
  updateBatchNormStatistics(stats: BatchNormStats[]): void {
    for (const s of stats) {
      const bn = this.#w.decoder.find((l) => l.bn?.name === s.name)?.bn;
      if (!bn) throw new Error(`no BatchNorm named ${s.name}`);
      updateRunningStat(this.#v(bn.mean), s.mean);
      updateRunningStat(this.#v(bn.variance), s.unbiasedVariance);
    }
  }

  /**
   * Per-patch mixture NLL [B, N] of the encoded tensor under the MDN conditioned on it (mdn1.py:35-102;
   * the MDN scores the tensor it is conditioned on, train.py:74).
   */
  patchNll(encoded: tf.Tensor3D): tf.Tensor2D {
    const c = this.config;
    const [b, n, d] = encoded.shape;
    const k = c.numGaussians;
    const target = tf.reshape(encoded, [b * n, d, 1]);
    const input = c.mdnInputClamp ? tf.maximum(encoded, MDN_CLAMP) : encoded;
    const { mdn } = this.#w;
    const logits = tf.reshape(dense(input, this.#v(mdn.pi)), [b * n, k]);
    const mu = tf.reshape(dense(input, this.#v(mdn.mu)), [b * n, d, k]); // unit o → (⌊o/K⌋, o mod K)
    const z = tf.softplus(tf.reshape(dense(input, this.#v(mdn.sigma)), [b * n, d, k]));
    const sq = tf.square(tf.sub(target, mu));
    let perDim: tf.Tensor;
    if (c.varianceParam === "expSoftplusLogVar") {
      // code: softplus output used as log-variance, σ² = exp(softplus) ≥ 1 (mdn1.py:39,66)
      perDim = tf.add(z, tf.mul(sq, tf.exp(tf.neg(z))));
    } else {
      // paper eq. (6): σ = softplus, a standard deviation
      const sigma = tf.add(z, c.sigmaFloor);
      perDim = tf.add(tf.mul(tf.log(sigma), 2), tf.div(sq, tf.square(sigma)));
    }
    const constant = c.log2piOnce ? LOG_2PI : d * LOG_2PI; // code: once per patch (mdn1.py:67)
    const logDensity = tf.mul(tf.add(tf.sum(perDim, 1), constant), -0.5); // [BN, K]
    let nll: tf.Tensor;
    if (c.mixtureNll === "weightedComponentNll") {
      nll = tf.sum(tf.mul(tf.softmax(logits), tf.neg(logDensity)), 1); // Σ πₖ·(−log 𝒩ₖ), mdn1.py:88-93
    } else {
      nll = tf.neg(tf.logSumExp(tf.add(tf.logSoftmax(logits), logDensity), 1)); // −log Σ πₖ 𝒩ₖ
    }
    return tf.reshape(nll, [b, n]);
  }

  /** Training loss of eq. (9) as train.py:72-77 codes it. */
  loss(x: tf.Tensor4D, noise: tf.Tensor | null): LossOutput {
    const c = this.config;
    const stats: BatchNormStats[] = [];
    let encoded = this.encode(x);
    if (noise) encoded = tf.add(encoded, noise) as tf.Tensor3D;
    const recon = this.decode(this.project(encoded), true, stats);
    const mse = tf.mean(tf.squaredDifference(recon, x)) as tf.Scalar;
    const ssim = ssimMean(x, recon);
    const nll = tf.mean(tf.sum(this.patchNll(encoded), 1)) as tf.Scalar;
    const ssimTerm = c.ssimLoss === "negative" ? tf.neg(ssim) : tf.sub(1, ssim);
    const loss = tf.addN([
      tf.mul(mse, c.lossMseWeight),
      tf.mul(ssimTerm, c.lossSsimWeight),
      tf.mul(nll, c.lossNllWeight),
    ]) as tf.Scalar;
    return { loss, terms: { mse, ssim, nll }, bnStats: stats };
  }

  /** Forward pass without noise, BatchNorm on running statistics (test.py: train=False, .eval()). */
  infer(x: tf.Tensor4D): InferenceOutput {
    const encoded = this.encode(x);
    const recon = this.decode(this.project(encoded), false, []);
    return { recon, patchNll: this.patchNll(encoded) };
  }

  /** MDN parameters accumulate their gradients when `mdnGradAccumulate` (train.py:65,93-94). */
  accumulatesGradient(name: string): boolean {
    const { pi, mu, sigma } = this.#w.mdn;
    return this.config.mdnGradAccumulate && [pi, mu, sigma].some((spec) => spec.name === name);
  }

  /** Disposes every variable. */
  dispose(): void {
    this.params.dispose();
  }
}
