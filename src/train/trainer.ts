/**
 * The training loop, top to bottom: seeded streams → network → Adam → for each epoch: shuffle, batches
 * (with training noise), loss and gradients, optimiser step → checkpoint. As train.py: batch 8, Adam with
 * coupled weight decay, constant LR, and the checkpoint with the lowest mean epoch loss kept.
 *
 * Determinism: weights, shuffling and noise come from the seed's streams (src/util/rng.ts), and the cpu
 * backend is deterministic, so the same seed and backend give bit-identical losses and weights. A
 * checkpoint holds every piece of state, also when written mid-epoch on an interrupt, so a resumed run
 * ends bit-identical to an uninterrupted one.
 *
 * Checkpoints carry the run's training identity (model, config hash, seed, and what the caller says the
 * data was) and the digest of the ordered training list. A compatible checkpoint is resumed by default;
 * one trained on anything else is refused with what differs, never continued or silently overwritten.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import "./gradients.ts";
import { join } from "node:path";
import { configHash, type ModelConfig } from "../models/configs.ts";
import { buildNetwork, type Network } from "../models/network.ts";
import type { ModelName } from "../core/models.ts";
import type { ImageSample } from "../datasets/types.ts";
import { canonicalJson } from "../util/canonical_json.ts";
import { type ResumePoint, trainingKey, trainingListDigest } from "./identity.ts";
import { Adam } from "./adam.ts";
import {
  type CheckpointMeta,
  type PartialEpoch,
  readCheckpoint,
  restoreVariable,
  type StoredTensor,
  type TrainingData,
  writeCheckpoint,
} from "./checkpoint.ts";
import { RandomStream } from "../util/rng.ts";
import { pathExists } from "../util/fs.ts";

/** One epoch's summary. */
export interface EpochReport {
  /** 1-based epoch number. */
  epoch: number;
  /** Mean over the epoch's batches of the total loss. */
  loss: number;
  /** Mean over batches of each loss term (unweighted), e.g. mse, ssim, nll. */
  terms: Record<string, number>;
  imagesPerSecond: number;
  seconds: number;
}

/** What to do with a compatible `last.ckpt`: continue it (the default), or start over and replace it. */
export type CheckpointPolicy = "resume" | "restart";

/** Options of {@linkcode trainModel}. */
export interface TrainOptions {
  model: ModelName;
  config: ModelConfig;
  seed: number;
  /** Normal training images at config.imageSize² (HWC uint8, 3 channels). */
  train: ImageSample[];
  /**
   * What the images are, beyond their pixels: dataset, content digest, category, preprocessing, subset.
   * Stored in checkpoints; a checkpoint with other data is refused, naming what differs.
   */
  data?: TrainingData;
  /** Folder for `last.ckpt` (full state) and `best.ckpt` (weights of the kept epoch). */
  checkpointDir: string;
  /** A compatible `last.ckpt` is continued (`resume`, default) or replaced (`restart`). */
  checkpoint?: CheckpointPolicy;
  onEpoch?: (report: EpochReport) => void;
  /** Called after every optimiser step (tests use it to watch tf.memory()). */
  onStep?: (info: { epoch: number; step: number; loss: number }) => void;
  /** Called once when training continues from a checkpoint (see {@linkcode describeResume}). */
  onResume?: (from: ResumePoint) => void;
  /** Stops after the current step; the state is checkpointed mid-epoch and resumes bit-identically. */
  signal?: AbortSignal;
  /** Stop after this many epochs in this call (the run stays resumable); default: all. */
  maxEpochsThisRun?: number;
}

/** What {@linkcode trainModel} returns. */
export interface TrainResult {
  /** The model with the weights the checkpoint policy keeps (best epoch or last). */
  model: TrainedModel;
  /** Every epoch's report, including those before a resume. */
  epochs: EpochReport[];
  bestEpoch: number;
  /** Wall-clock seconds of this call. */
  seconds: number;
  /** Where this call continued from, or null when it started from scratch. */
  resumedFrom: ResumePoint | null;
}

/** A trained network with its config and provenance; dispose it when done. */
export class TrainedModel {
  readonly kind: ModelName;
  readonly config: ModelConfig;
  readonly network: Network;
  readonly seed: number;
  /** Epoch whose weights these are. */
  readonly epoch: number;

  /** Wraps a network. */
  constructor(network: Network, seed: number, epoch: number) {
    this.network = network;
    this.config = network.config;
    this.kind = network.config.model;
    this.seed = seed;
    this.epoch = epoch;
  }

  /** Frees the network's variables. */
  dispose(): void {
    this.network.dispose();
  }
}

/** Training stopped on a NaN or infinite loss; the last good checkpoint is kept. */
export class NonFiniteLossError extends Error {
  override name = "NonFiniteLossError";
}

/** Training was stopped through the abort signal; its state is in the checkpoint. */
export class TrainingInterrupted extends Error {
  override name = "TrainingInterrupted";
}

/** A checkpoint exists but belongs to another training run; the message says what differs. */
export class CheckpointMismatchError extends Error {
  override name = "CheckpointMismatchError";
}

const LAST = "last.ckpt";
const BEST = "best.ckpt";

/** Raw training state that checkpoints hold. */
interface RunState {
  net: Network;
  adam: Adam;
  shuffle: RandomStream;
  noise: RandomStream;
  epochs: EpochReport[];
  bestEpoch: number;
  bestLoss: number;
  /** The epoch in progress, as far as it got (null between epochs). */
  partial: PartialEpoch | null;
}

/** The identity of one training run. */
interface Identity {
  meta: CheckpointMeta["identity"];
  key: string;
  trainList: CheckpointMeta["trainList"];
}

function checkImages(images: ImageSample[], config: ModelConfig): void {
  if (images.length === 0) throw new Error("no training images: the split's train list is empty");
  for (const img of images) {
    if (img.width !== config.imageSize || img.height !== config.imageSize || img.channels !== 3) {
      throw new Error(
        `training image ${img.path} is ${img.width}×${img.height}×${img.channels}, config ${config.name} needs ` +
          `${config.imageSize}×${config.imageSize}×3 (preprocess with resize ${config.resizeTo}, crop ${config.imageSize})`,
      );
    }
  }
}

function identityOf(options: TrainOptions): Identity {
  const meta = {
    model: options.model,
    configHash: configHash(options.config),
    seed: options.seed,
    data: options.data ?? {},
  };
  return {
    meta,
    key: trainingKey(meta),
    trainList: { count: options.train.length, digest: trainingListDigest(options.train) },
  };
}

/** Stacks images into a float32 NHWC batch scaled to [0, 1] (ToTensor(), no normalisation). */
export function imagesToBatch(images: ImageSample[]): tf.Tensor4D {
  const { width, height } = images[0];
  const size = width * height * 3;
  const data = new Float32Array(images.length * size);
  images.forEach((img, i) => {
    for (let j = 0; j < size; j++) data[i * size + j] = img.pixels[j] / 255;
  });
  return tf.tensor4d(data, [images.length, height, width, 3]);
}

/** Checkpoint tensors: every model variable, plus (for `last.ckpt`) the optimiser state. */
function tensorsOf(state: RunState, withOptimizer: boolean): { name: string; tensor: tf.Tensor }[] {
  const params = state.net.params.entries().map(([spec, v]) => ({
    name: `param:${spec.name}`,
    tensor: v as tf.Tensor,
  }));
  if (!withOptimizer) return params;
  const adam = state.adam.stateTensors().map(({ name, tensor }) => ({
    name: `adam:${name}`,
    tensor: tensor as tf.Tensor,
  }));
  return [...params, ...adam];
}

function metaOf(options: TrainOptions, identity: Identity, state: RunState, epoch: number): CheckpointMeta {
  return {
    format: 2,
    model: options.model,
    config: options.config,
    configHash: identity.meta.configHash,
    seed: options.seed,
    identity: identity.meta,
    trainingKey: identity.key,
    trainList: identity.trainList,
    epoch,
    partial: state.partial,
    optimizerStep: state.adam.step,
    rng: { shuffle: state.shuffle.state(), noise: state.noise.state() },
    epochs: state.epochs,
    bestEpoch: state.bestEpoch,
    bestLoss: state.bestLoss,
    backend: tf.getBackend(),
  };
}

function restoreParams(net: Network, tensors: Map<string, StoredTensor>): void {
  for (const [spec, variable] of net.params.entries()) {
    restoreVariable(variable, tensors.get(`param:${spec.name}`), spec.name);
  }
}

/** `a → b` for every top-level field that differs (canonical JSON, shortened). */
function differences(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const short = (v: unknown) => {
    if (v === undefined) return "none";
    if (typeof v === "string" && /^[0-9a-f]{40,}$/.test(v)) return `${v.slice(0, 12)}…`; // a digest
    const text = canonicalJson(v);
    return text.length > 60 ? `${text.slice(0, 57)}…` : text;
  };
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
  return keys.filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).map((k) =>
    `${k} ${short(before[k])} → ${short(after[k])}`
  );
}

/** Refuses a checkpoint of another training run, saying what differs and what to do. */
function checkCompatible(meta: CheckpointMeta, identity: Identity, path: string): void {
  const fix =
    "rerun with --restart to train from scratch (the checkpoint is replaced), or choose another --out";
  if (meta.format !== 2) {
    throw new CheckpointMismatchError(
      `checkpoint ${path} was written by an older version of the harness without a training identity: ${fix}`,
    );
  }
  if (meta.trainingKey !== identity.key) {
    const differ = [
      ...differences(
        { model: meta.identity.model, configHash: meta.identity.configHash, seed: meta.identity.seed },
        { model: identity.meta.model, configHash: identity.meta.configHash, seed: identity.meta.seed },
      ),
      ...differences(meta.identity.data, identity.meta.data),
    ];
    throw new CheckpointMismatchError(
      `checkpoint ${path} belongs to another training run (${differ.join("; ")}): ${fix}`,
    );
  }
  if (meta.trainList.digest !== identity.trainList.digest) {
    throw new CheckpointMismatchError(
      `checkpoint ${path} was trained on another training set: ${meta.trainList.count} images (list digest ` +
        `${meta.trainList.digest.slice(0, 12)}), this run has ${identity.trainList.count} (${
          identity.trainList.digest.slice(0, 12)
        }); ${fix}`,
    );
  }
}

/** Loads `last.ckpt` into the state when it is compatible; returns where it left off. */
async function resumeFrom(path: string, identity: Identity, state: RunState): Promise<ResumePoint> {
  const { meta, tensors } = await readCheckpoint(path);
  checkCompatible(meta, identity, path);
  restoreParams(state.net, tensors);
  for (const { name, tensor } of state.adam.stateTensors()) {
    restoreVariable(tensor, tensors.get(`adam:${name}`), `adam:${name}`);
  }
  state.adam.step = meta.optimizerStep;
  state.shuffle = RandomStream.fromState(meta.rng.shuffle);
  state.noise = RandomStream.fromState(meta.rng.noise);
  state.epochs = meta.epochs;
  state.bestEpoch = meta.bestEpoch;
  state.bestLoss = meta.bestLoss;
  state.partial = meta.partial;
  return { path, epoch: meta.epoch, step: meta.partial?.steps ?? 0 };
}

/**
 * Trains one model on one category's normal images and returns the model the checkpoint policy keeps.
 * A compatible `last.ckpt` in `checkpointDir` is continued unless `checkpoint: "restart"`.
 *
 * @example
 * ```ts
 * const config = resolveConfig("vtadl", "smoke");
 * const { model, epochs } = await trainModel({ model: "vtadl", config, seed: 1, train, checkpointDir: "out/ckpt" });
 * model.dispose();
 * ```
 */
export async function trainModel(options: TrainOptions): Promise<TrainResult> {
  const { config, seed, train, checkpointDir } = options;
  if (config.model !== options.model) {
    throw new Error(`config is for ${config.model}, model is ${options.model}`);
  }
  checkImages(train, config);
  const started = performance.now();
  const identity = identityOf(options);
  const net = buildNetwork(config, RandomStream.derive(seed, "init"));
  const trainable = net.params.trainableSpecs().map((spec) => ({
    name: spec.name,
    variable: net.params.get(spec.name),
    accumulate: net.accumulatesGradient(spec.name),
  }));
  const adam = new Adam(trainable, {
    learningRate: config.learningRate,
    beta1: config.adamBeta1,
    beta2: config.adamBeta2,
    epsilon: config.adamEpsilon,
    weightDecay: config.weightDecay,
  });
  const state: RunState = {
    net,
    adam,
    shuffle: RandomStream.derive(seed, "shuffle"),
    noise: RandomStream.derive(seed, "noise"),
    epochs: [],
    bestEpoch: 0,
    bestLoss: Infinity,
    partial: null,
  };
  try {
    const lastPath = join(checkpointDir, LAST);
    let startEpoch = 0;
    let resumedFrom: TrainResult["resumedFrom"] = null;
    if ((options.checkpoint ?? "resume") === "resume" && await pathExists(lastPath)) {
      resumedFrom = await resumeFrom(lastPath, identity, state);
      startEpoch = resumedFrom.epoch;
      options.onResume?.(resumedFrom);
    }
    const lastEpoch = Math.min(config.epochs, startEpoch + (options.maxEpochsThisRun ?? Infinity));
    for (let epoch = startEpoch + 1; epoch <= lastEpoch; epoch++) {
      const report = await runEpoch(state, options, identity, epoch);
      state.epochs.push(report);
      // train.py saves when the epoch's mean loss is ≤ the best so far.
      const isBest = config.checkpointPolicy === "last" || report.loss <= state.bestLoss;
      if (isBest) {
        state.bestEpoch = epoch;
        state.bestLoss = report.loss;
      }
      const meta = metaOf(options, identity, state, epoch);
      await writeCheckpoint(lastPath, meta, tensorsOf(state, true));
      // best.ckpt holds the weights only (it is for scoring; resuming uses last.ckpt).
      if (isBest) await writeCheckpoint(join(checkpointDir, BEST), meta, tensorsOf(state, false));
      options.onEpoch?.(report);
    }
    if (state.bestEpoch !== state.epochs.length && state.bestEpoch > 0) {
      const { tensors } = await readCheckpoint(join(checkpointDir, BEST));
      restoreParams(net, tensors);
    }
    adam.dispose();
    return {
      model: new TrainedModel(net, seed, state.bestEpoch),
      epochs: state.epochs,
      bestEpoch: state.bestEpoch,
      seconds: (performance.now() - started) / 1000,
      resumedFrom,
    };
  } catch (error) {
    adam.dispose();
    net.dispose();
    throw error;
  }
}

/** Result of {@linkcode trainStep}. */
export interface StepResult {
  loss: number;
  terms: Record<string, number>;
  /** false: the loss or a term was NaN/±∞ and nothing was updated. */
  finite: boolean;
}

/**
 * One optimiser step on a batch: loss and gradients, then (if every value is finite) the BatchNorm
 * running statistics and the Adam update. Training noise (VT-ADL) is drawn from `noiseStream`.
 * Creates no lasting tensors.
 *
 * @example
 * ```ts
 * const { loss } = await trainStep(net, adam, images.slice(0, 8), RandomStream.derive(1, "noise"));
 * ```
 */
export async function trainStep(
  net: Network,
  adam: Adam,
  batch: ImageSample[],
  noiseStream: RandomStream,
): Promise<StepResult> {
  const config = net.config;
  const x = imagesToBatch(batch);
  const noiseShape = net.noiseShape(batch.length);
  const noise = noiseShape && config.model === "vtadl"
    ? tf.tensor(noiseStream.normalArray(noiseShape.reduce((a, b) => a * b, 1), config.noiseStd), noiseShape)
    : null;
  let termNames: string[] = [];
  let packed: tf.Tensor | null = null;
  let bnStats: { name: string; mean: tf.Tensor; unbiasedVariance: tf.Tensor }[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const out = net.loss(x, noise);
    termNames = Object.keys(out.terms);
    packed = tf.keep(tf.stack([out.loss, ...termNames.map((n) => out.terms[n])]));
    bnStats = out.bnStats.map((s) => ({
      name: s.name,
      mean: tf.keep(s.mean),
      unbiasedVariance: tf.keep(s.unbiasedVariance),
    }));
    return out.loss;
  }, adam.params.map((p) => p.variable));
  const values = await (packed as unknown as tf.Tensor).data();
  const finite = Array.from(values).every(Number.isFinite);
  if (finite) {
    net.updateBatchNormStatistics(bnStats);
    adam.apply(adam.params.map((p) => grads[p.variable.name]));
  }
  tf.dispose([x, value, packed as unknown as tf.Tensor, ...Object.values(grads)]);
  if (noise) noise.dispose();
  for (const s of bnStats) tf.dispose([s.mean, s.unbiasedVariance]);
  const terms: Record<string, number> = {};
  termNames.forEach((n, i) => terms[n] = values[i + 1]);
  return { loss: values[0], terms, finite };
}

/** Lets pending signals (Ctrl-C) run: a training step alone never yields to the event loop's timers. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/**
 * One epoch: the permutation, then every batch; continues an epoch stopped part-way (`state.partial`).
 * On an abort it checkpoints the epoch as far as it got and throws {@linkcode TrainingInterrupted}.
 */
async function runEpoch(
  state: RunState,
  options: TrainOptions,
  identity: Identity,
  epoch: number,
): Promise<EpochReport> {
  const { config, train } = options;
  const { net, adam } = state;
  const resumed = state.partial?.epoch === epoch ? state.partial : null;
  const shuffleAtEpochStart = resumed ? resumed.shuffleAtEpochStart : state.shuffle.state();
  // A resumed epoch draws its permutation again from the stream state it started with.
  if (resumed) state.shuffle = RandomStream.fromState(shuffleAtEpochStart);
  const order = state.shuffle.permutation(train.length);
  const termSums: Record<string, number> = { ...resumed?.termSums };
  let lossSum = resumed?.lossSum ?? 0;
  let steps = resumed?.steps ?? 0;
  const previousSeconds = resumed?.seconds ?? 0;
  const started = performance.now();
  const seconds = () => previousSeconds + (performance.now() - started) / 1000;
  state.partial = null;
  for (let start = steps * config.batchSize; start < order.length; start += config.batchSize) {
    if (options.signal?.aborted) {
      const where = `epoch ${epoch}, after step ${steps} of ${Math.ceil(order.length / config.batchSize)}`;
      if (steps > 0) {
        state.partial = { epoch, steps, lossSum, termSums, seconds: seconds(), shuffleAtEpochStart };
        const meta = metaOf(options, identity, state, epoch - 1);
        await writeCheckpoint(join(options.checkpointDir, LAST), meta, tensorsOf(state, true));
      }
      throw new TrainingInterrupted(
        `training interrupted in ${where}; its state is saved in ${join(options.checkpointDir, LAST)}`,
      );
    }
    const batch = order.slice(start, start + config.batchSize).map((i) => train[i]);
    const step = await trainStep(net, adam, batch, state.noise);
    if (!step.finite) {
      const terms = Object.entries(step.terms).map(([n, v]) => `${n}=${v}`).join(" ");
      throw new NonFiniteLossError(
        `training stopped: non-finite loss ${step.loss} (${terms}) at epoch ${epoch}, step ${steps + 1}; ` +
          `the last good checkpoint (epoch ${
            epoch - 1
          }) is kept in ${options.checkpointDir}; try a lower learningRate`,
      );
    }
    lossSum += step.loss;
    for (const [n, v] of Object.entries(step.terms)) termSums[n] = (termSums[n] ?? 0) + v;
    steps += 1;
    options.onStep?.({ epoch, step: steps, loss: step.loss });
    await yieldToEventLoop();
  }
  const elapsed = seconds();
  const terms: Record<string, number> = {};
  for (const [n, sum] of Object.entries(termSums)) terms[n] = sum / steps;
  return { epoch, loss: lossSum / steps, terms, imagesPerSecond: train.length / elapsed, seconds: elapsed };
}

/**
 * Loads the model a checkpoint holds (e.g. `best.ckpt`) for scoring.
 *
 * @example
 * ```ts
 * const model = await loadTrainedModel("runs/x/checkpoints/best.ckpt");
 * ```
 */
export async function loadTrainedModel(path: string): Promise<TrainedModel> {
  const { meta, tensors } = await readCheckpoint(path);
  const net = buildNetwork(meta.config, RandomStream.derive(meta.seed, "init"));
  restoreParams(net, tensors);
  return new TrainedModel(net, meta.seed, meta.epoch);
}

/** One progress line: epoch, loss and its terms, img/s and the ETA of the remaining epochs. */
export function formatEpochLine(report: EpochReport, totalEpochs: number, meanEpochSeconds: number): string {
  const terms = Object.entries(report.terms).map(([n, v]) => `${n} ${v.toPrecision(5)}`).join(", ");
  const eta = Math.max(totalEpochs - report.epoch, 0) * meanEpochSeconds;
  const etaText = eta >= 3600
    ? `${(eta / 3600).toFixed(1)} h`
    : eta >= 60
    ? `${(eta / 60).toFixed(1)} min`
    : `${eta.toFixed(0)} s`;
  return `epoch ${report.epoch}/${totalEpochs}  loss ${report.loss.toPrecision(6)} (${terms})  ` +
    `${report.imagesPerSecond.toFixed(2)} img/s  ${report.seconds.toFixed(1)} s  ETA ${etaText}`;
}
