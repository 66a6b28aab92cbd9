/**
 * Named model/training configurations as plain data, `--set key=value` overrides with type checking, and
 * the config hash every run and checkpoint records.
 *
 * VT-ADL configs (`code` and `paper` are the 512² networks of `docs/original-code.md`; the others are
 * the harness's own smaller choices, documented in README "Training"):
 *
 * | name  | image | patch | grid | dim | depth | heads | MLP  | K   | decoder                         | epochs |
 * |-------|-------|-------|------|-----|-------|-------|------|-----|---------------------------------|--------|
 * | smoke | 32    | 4     | 8×8  | 32  | 1     | 2     | 64   | 3   | stride-2 from 4×4 (3 stages)    | 2      |
 * | quick | 128   | 16    | 8×8  | 64  | 2     | 4     | 128  | 10  | stride-2 from 8×8 (4 stages)    | 5      |
 * | mnist | 28    | 4     | 7×7  | 128 | 4     | 4     | 256  | 10  | stride-2 from 7×7 (2 stages)    | 30     |
 * | code  | 512   | 64    | 8×8  | 512 | 6     | 8     | 1024 | 10  | the original 6 ConvT layers     | 400    |
 * | paper | 512   | 64    | 8×8  | 512 | 6     | 8     | 1024 | 150 | the original 6 ConvT layers     | 400    |
 *
 * @module
 */
import { canonicalJsonSha256 } from "../util/canonical_json.ts";
import { z } from "zod";
import { BTAD_RESIZES, MASK_RESIZES } from "../core/datasets.ts";
import { UsageError } from "../core/errors.ts";
import { AUTOENCODER_NAMES, MODEL_NAMES, type ModelName, MODELS } from "../core/models.ts";

/** The named configurations every model offers. */
export const CONFIG_NAMES = ["smoke", "quick", "mnist", "code", "paper"] as const;

const positiveInt = z.number().int().positive();
const nonNegative = z.number().nonnegative();

/** Fields shared by every model kind. */
const baseSchema = z.object({
  /** Model this config belongs to. */
  model: z.enum(MODEL_NAMES),
  /** Config name (`smoke`, …, `paper`). */
  name: z.string(),
  /** `code`: as the public code; `paper`: as the paper; `harness`: the harness's own choice. */
  variant: z.enum(["code", "paper", "harness"]),
  /** Network input side in pixels (after resize and centre crop). */
  imageSize: positiveInt,
  /** Images are resized to resizeTo² and centre-cropped to imageSize² (code: 550 → 512). */
  resizeTo: positiveInt,
  /** ViT patch side (0 for the autoencoders). */
  patchSize: z.number().int().nonnegative(),
  batchSize: positiveInt,
  epochs: positiveInt,
  learningRate: z.number().positive(),
  /** Coupled L2 weight decay: g += weightDecay·θ on every parameter, as PyTorch Adam(weight_decay). */
  weightDecay: nonNegative,
  adamBeta1: z.number().min(0).max(1),
  adamBeta2: z.number().min(0).max(1),
  adamEpsilon: z.number().positive(),
  /** `bestLoss`: keep the epoch with the lowest mean training loss (≤, as train.py); `last`. */
  checkpointPolicy: z.enum(["bestLoss", "last"]),
  /** Loss weights: w_mse·MSE + w_ssim·SSIM term (+ NLL for VT-ADL). */
  lossMseWeight: nonNegative,
  lossSsimWeight: nonNegative,
  /** `negative`: −SSIM (train.py:73); `oneMinus`: 1 − SSIM (same gradient, non-negative value). */
  ssimLoss: z.enum(["negative", "oneMinus"]),
  /** Mask preprocessing: `bilinearAnyPositive` (code, mvtech.py:162-164) or `nearest`. */
  maskResize: z.enum(MASK_RESIZES),
  /** BTAD preprocessing: `resize550crop512` (code's MVTec path) or `direct512` (paper "scaled to 512"). */
  btadResize: z.enum(BTAD_RESIZES),
});

/** VT-ADL fields (see vtadl.ts and docs/original-code.md §1-§5). */
const vtadlSchema = baseSchema.extend({
  model: z.literal("vtadl"),
  dim: positiveInt,
  depth: positiveInt,
  heads: positiveInt,
  mlpDim: positiveInt,
  /** Size of the reconstruction vector (code: 512 = 8·8·8, the capsule's output). */
  projectionDim: positiveInt,
  /** `code`: the original 6 ConvT layers (needs 512² and projectionDim 512); `stride2`: parametric. */
  decoder: z.enum(["code", "stride2"]),
  /** stride2: the reconstruction vector is viewed as (projectionDim/seed², seed, seed) NCHW. */
  decoderSeedSize: positiveInt,
  /** stride2: output channels of each ConvT 4×4/2 stage; its length sets the number of stages. */
  decoderChannels: z.array(positiveInt),
  numGaussians: positiveInt,
  /** Std of the N(0, σ²) noise added to the encoder output in training (VT_AE.py:51-52). */
  noiseStd: nonNegative,
  lossNllWeight: nonNegative,
  /** `dim`: 1/√D as student_transformer.py:45 (code); `headDim`: 1/√(D/heads), standard ViT (paper). */
  attentionScale: z.enum(["dim", "headDim"]),
  /** `weightedComponentNll`: Σ πₖ·(−log 𝒩ₖ) (mdn1.py:72-95); `logSumExp`: −log Σ πₖ 𝒩ₖ. */
  mixtureNll: z.enum(["weightedComponentNll", "logSumExp"]),
  /** `expSoftplusLogVar`: σ² = exp(softplus(z)) ≥ 1 (mdn1.py:39,66); `softplusStd`: σ = softplus(z) (eq. 6). */
  varianceParam: z.enum(["expSoftplusLogVar", "softplusStd"]),
  /** Floor added to σ under `softplusStd` (harness choice). */
  sigmaFloor: nonNegative,
  /** true: log 2π added once per patch, not once per dimension (mdn1.py:67). */
  log2piOnce: z.boolean(),
  /** true: the MDN's input is clamped at 2.2e-16 (mdn1.py:35-36). */
  mdnInputClamp: z.boolean(),
  /** true: MDN gradients are never zeroed, Adam sees their running sum (train.py:65,93-94). */
  mdnGradAccumulate: z.boolean(),
  /** Scoring: `plus`: MSE + SSIM + max NLL (test.py:143); `oneMinus`: MSE + (1 − SSIM) + max NLL. */
  imageScoreSsim: z.enum(["plus", "oneMinus"]),
  /** Scoring: `combined` (reconstruction + max NLL) or `reconstruction` only (the paper's MNIST score). */
  imageScore: z.enum(["combined", "reconstruction"]),
  /** Scoring: σ of the Gaussian filter applied to the upsampled patch-NLL map (0 = none). */
  heatmapSigma: nonNegative,
  /** squash(s) = ‖s‖²/(1+‖s‖²)·s/√(‖s‖²+ε); 0 as spatial.py:112-115 (NaN at s = 0). */
  squashEpsilon: nonNegative,
});

/** Convolutional autoencoder fields (Bergmann et al. 2019, Table 1; see autoencoder.ts). */
const autoencoderSchema = baseSchema.extend({
  model: z.enum(AUTOENCODER_NAMES),
  /** Latent size d (Bergmann et al.: 100), produced by an 8×8 valid convolution. */
  latentDim: positiveInt,
  /** LeakyReLU slope (0.2). */
  leakySlope: nonNegative,
  /** Multiplies every hidden channel count (1 = Table 1; `smoke` uses 0.25 to stay fast on CPU). */
  channelScale: z.number().positive(),
});

/** A resolved VT-ADL configuration. */
export type VtadlConfig = z.infer<typeof vtadlSchema>;
/** A resolved autoencoder configuration. */
export type AutoencoderConfig = z.infer<typeof autoencoderSchema>;
/** A resolved configuration: plain JSON data, recorded with every run. */
export type ModelConfig = VtadlConfig | AutoencoderConfig;

const TRAINING_CODE = {
  batchSize: 8,
  epochs: 400,
  learningRate: 1e-4,
  weightDecay: 1e-4,
  adamBeta1: 0.9,
  adamBeta2: 0.999,
  adamEpsilon: 1e-8,
  checkpointPolicy: "bestLoss",
  maskResize: "bilinearAnyPositive",
  btadResize: "resize550crop512",
} as const;

/** The `code` variant: docs/original-code.md, every flag at the original's behaviour. */
const VTADL_CODE: VtadlConfig = {
  model: "vtadl",
  name: "code",
  variant: "code",
  imageSize: 512,
  resizeTo: 550,
  patchSize: 64,
  ...TRAINING_CODE,
  lossMseWeight: 5,
  lossSsimWeight: 0.5,
  ssimLoss: "negative",
  dim: 512,
  depth: 6,
  heads: 8,
  mlpDim: 1024,
  projectionDim: 512,
  decoder: "code",
  decoderSeedSize: 8,
  decoderChannels: [],
  numGaussians: 10,
  noiseStd: 0.2,
  lossNllWeight: 1,
  attentionScale: "dim",
  mixtureNll: "weightedComponentNll",
  varianceParam: "expSoftplusLogVar",
  sigmaFloor: 0,
  log2piOnce: true,
  mdnInputClamp: true,
  mdnGradAccumulate: true,
  imageScoreSsim: "plus",
  imageScore: "combined",
  heatmapSigma: 4,
  squashEpsilon: 0,
};

/** The paper's flag values (docs/original-code.md §10), shared by smaller configs. */
const PAPER_FLAGS = {
  numGaussians: 150,
  mixtureNll: "logSumExp",
  varianceParam: "softplusStd",
  sigmaFloor: 1e-6,
  log2piOnce: false,
  mdnInputClamp: false,
  mdnGradAccumulate: false,
  attentionScale: "headDim",
  imageScoreSsim: "oneMinus",
  heatmapSigma: 0,
  maskResize: "nearest",
  squashEpsilon: 1e-8,
  btadResize: "direct512",
  ssimLoss: "oneMinus",
} as const;

const VTADL_CONFIGS: Record<string, VtadlConfig> = {
  code: VTADL_CODE,
  paper: { ...VTADL_CODE, name: "paper", variant: "paper", ...PAPER_FLAGS },
  // Harness choices: the code's flags, smaller networks. 32 px crop of a 34 px resize (≈ 550/512).
  smoke: {
    ...VTADL_CODE,
    name: "smoke",
    variant: "harness",
    imageSize: 32,
    resizeTo: 34,
    patchSize: 4,
    batchSize: 4,
    epochs: 2,
    learningRate: 1e-3,
    dim: 32,
    depth: 1,
    heads: 2,
    mlpDim: 64,
    projectionDim: 64,
    decoder: "stride2",
    decoderSeedSize: 4,
    decoderChannels: [16, 8, 8],
    numGaussians: 3,
  },
  quick: {
    ...VTADL_CODE,
    name: "quick",
    variant: "harness",
    imageSize: 128,
    resizeTo: 138,
    patchSize: 16,
    epochs: 5,
    learningRate: 1e-4,
    dim: 64,
    depth: 2,
    heads: 4,
    mlpDim: 128,
    projectionDim: 512,
    decoder: "stride2",
    decoderSeedSize: 8,
    decoderChannels: [16, 16, 8, 8],
    numGaussians: 10,
  },
  // MNIST: no public code (docs/original-code.md §8). Native 28×28 (grey replicated to 3 channels), patch 4 → 7×7 = 49
  // patches (the ViT needs > 16), reconstruction-only image score as the paper describes for MNIST.
  mnist: {
    ...VTADL_CODE,
    name: "mnist",
    variant: "harness",
    imageSize: 28,
    resizeTo: 28,
    patchSize: 4,
    epochs: 30,
    dim: 128,
    depth: 4,
    heads: 4,
    mlpDim: 256,
    projectionDim: 784,
    decoder: "stride2",
    decoderSeedSize: 7,
    decoderChannels: [32, 16],
    numGaussians: 10,
    imageScore: "reconstruction",
  },
};

/** Bergmann et al. 2019 at 128×128 (Table 1); the image size sets the number of stride-2 stages. */
const AE_BASE = {
  variant: "harness",
  patchSize: 0,
  ...TRAINING_CODE,
  lossMseWeight: 1,
  ssimLoss: "oneMinus",
  latentDim: 100,
  leakySlope: 0.2,
  channelScale: 1,
} as const;

function autoencoderConfigs(model: "ae-mse" | "ae-ssim"): Record<string, AutoencoderConfig> {
  // ae-mse: MSE only; ae-ssim: MSE + (1 − SSIM), the paper's "AE MSE+SSIM" baseline (Table IV).
  const ssimWeight = model === "ae-ssim" ? 1 : 0;
  const base = { ...AE_BASE, model, lossSsimWeight: ssimWeight };
  return {
    smoke: {
      ...base,
      name: "smoke",
      imageSize: 32,
      resizeTo: 34,
      batchSize: 4,
      epochs: 2,
      learningRate: 1e-3,
      latentDim: 16,
      channelScale: 0.25,
    },
    quick: { ...base, name: "quick", imageSize: 128, resizeTo: 138, epochs: 5 },
    mnist: { ...base, name: "mnist", imageSize: 32, resizeTo: 32, epochs: 30 },
    code: { ...base, name: "code", imageSize: 512, resizeTo: 550 },
    paper: { ...base, name: "paper", imageSize: 512, resizeTo: 550, ...pickPaperData() },
  };
}

function pickPaperData() {
  return { maskResize: PAPER_FLAGS.maskResize, btadResize: PAPER_FLAGS.btadResize } as const;
}

/**
 * Thrown for an unknown config, an unknown or ill-typed override, or an inconsistent architecture: a
 * usage error (exit 2), since the fix is always another `--config` or `--set`.
 */
export class ConfigError extends UsageError {
  override name = "ConfigError";
}

/**
 * Returns the named config of a model kind with `--set` overrides applied, type-checked and validated.
 *
 * Overrides are strings: numbers, `true`/`false`, enum values, or comma-separated numbers for arrays.
 *
 * @example
 * ```ts
 * const config = resolveConfig("vtadl", "smoke", { epochs: "3", mixtureNll: "logSumExp" });
 * ```
 */
export function resolveConfig(
  model: ModelName,
  name: string,
  overrides: Record<string, string> = {},
): ModelConfig {
  if (!MODEL_NAMES.includes(model)) {
    throw new ConfigError(`unknown model '${model}': expected one of ${MODEL_NAMES.join(", ")}`);
  }
  const vtadl = MODELS[model].family === "vtadl";
  const table = vtadl ? VTADL_CONFIGS : autoencoderConfigs(model as typeof AUTOENCODER_NAMES[number]);
  const named = table[name];
  if (!named) {
    throw new ConfigError(
      `unknown config '${name}' for ${model}: expected one of ${CONFIG_NAMES.join(", ")}`,
    );
  }
  const config: Record<string, unknown> = structuredClone(named);
  for (const [key, raw] of Object.entries(overrides)) {
    if (key === "model" || key === "name") throw new ConfigError(`--set ${key}: cannot be overridden`);
    if (!(key in config)) {
      throw new ConfigError(
        `--set ${key}: unknown key for ${model}; known: ${Object.keys(config).join(", ")}`,
      );
    }
    config[key] = parseOverride(key, raw, config[key]);
  }
  const schema = vtadl ? vtadlSchema : autoencoderSchema;
  const parsed = schema.safeParse(config);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`config ${model}/${name}: ${issue.path.join(".")}: ${issue.message}`);
  }
  const result = parsed.data as ModelConfig;
  validateArchitecture(result);
  return result;
}

function parseOverride(key: string, raw: string, current: unknown): unknown {
  if (typeof current === "number") {
    const value = Number(raw);
    if (raw.trim() === "" || !Number.isFinite(value)) {
      throw new ConfigError(`--set ${key}=${raw}: expected a number`);
    }
    return value;
  }
  if (typeof current === "boolean") {
    if (raw !== "true" && raw !== "false") {
      throw new ConfigError(`--set ${key}=${raw}: expected true or false`);
    }
    return raw === "true";
  }
  if (Array.isArray(current)) {
    if (raw.trim() === "") return [];
    const values = raw.split(",").map((s) => Number(s));
    if (values.some((v) => !Number.isFinite(v))) {
      throw new ConfigError(`--set ${key}=${raw}: expected comma-separated numbers`);
    }
    return values;
  }
  return raw; // strings: the schema checks enum membership
}

/** Shape checks the schema cannot express; each names the fields to change. */
function validateArchitecture(config: ModelConfig): void {
  const where = `config ${config.model}/${config.name}`;
  if (config.resizeTo < config.imageSize) {
    throw new ConfigError(`${where}: resizeTo ${config.resizeTo} < imageSize ${config.imageSize}`);
  }
  if (config.model !== "vtadl") {
    const stages = Math.log2(config.imageSize / 8);
    if (!Number.isInteger(stages) || stages < 1) {
      throw new ConfigError(
        `${where}: imageSize must be 8·2^n with n ≥ 1 (16, 32, …, 512), got ${config.imageSize}`,
      );
    }
    return;
  }
  const { imageSize, patchSize, dim, heads } = config;
  if (imageSize % patchSize !== 0) {
    throw new ConfigError(`${where}: imageSize ${imageSize} is not a multiple of patchSize ${patchSize}`);
  }
  const patches = (imageSize / patchSize) ** 2;
  if (patches <= 16) {
    // student_transformer.py:96 asserts N > MIN_NUM_PATCHES = 16.
    throw new ConfigError(`${where}: ${patches} patches; the ViT needs more than 16 (lower patchSize)`);
  }
  if (dim % heads !== 0) throw new ConfigError(`${where}: dim ${dim} is not divisible by heads ${heads}`);
  if (config.decoder === "code") {
    if (imageSize !== 512 || config.projectionDim !== 512) {
      throw new ConfigError(
        `${where}: decoder 'code' needs imageSize 512 and projectionDim 512; use 'stride2'`,
      );
    }
    return;
  }
  const seed = config.decoderSeedSize;
  if (config.projectionDim % (seed * seed) !== 0) {
    throw new ConfigError(`${where}: projectionDim ${config.projectionDim} is not a multiple of ${seed}²`);
  }
  const out = seed * 2 ** config.decoderChannels.length;
  if (out !== imageSize) {
    throw new ConfigError(
      `${where}: stride2 decoder gives ${seed}·2^${config.decoderChannels.length} = ${out} px, need ${imageSize}`,
    );
  }
}

/**
 * SHA-256 (hex) of the config's canonical JSON: identifies a config in checkpoints and run records.
 *
 * @example
 * ```ts
 * configHash(resolveConfig("vtadl", "code")); // "3f…"
 * ```
 */
export function configHash(config: ModelConfig): string {
  return canonicalJsonSha256(config);
}

/** Parses repeated `key=value` strings (the CLI's `--set`) into an overrides object. */
export function parseSetFlags(values: string[]): Record<string, string> {
  const overrides: Record<string, string> = {};
  for (const item of values) {
    const eq = item.indexOf("=");
    if (eq <= 0) throw new ConfigError(`--set ${item}: expected key=value`);
    overrides[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return overrides;
}
