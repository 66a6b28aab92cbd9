/**
 * Checkpoint files: one self-describing binary file per checkpoint, written atomically (temp + fsync +
 * rename), holding the model's variables, the optimiser state, the RNG states, the epoch (and, when it
 * was written mid-epoch, the step and the partial sums), the config and its hash, the training identity
 * and the digest of the training list, and the per-epoch losses so far.
 *
 * Layout: magic `VTADLCK1` (8 bytes) · header length (uint32 LE) · header JSON (UTF-8) · zero padding to a
 * multiple of 4 · float32 little-endian tensor data at the offsets the header lists.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import { writeFileAtomic } from "../util/atomic_write.ts";
import type { ModelConfig } from "../models/configs.ts";
import type { ModelName } from "../core/models.ts";
import type { TrainingIdentity } from "./identity.ts";

const MAGIC = "VTADLCK1";

/** What a training run was trained on, beyond model, config and seed (set by the caller). */
export type TrainingData = TrainingIdentity["data"];

/** An epoch stopped part-way (Ctrl-C): enough to finish it to the bit-identical result. */
export interface PartialEpoch {
  /** The epoch in progress (1-based). */
  epoch: number;
  /** Optimiser steps of that epoch already taken. */
  steps: number;
  /** Sums over those steps of the loss and of each term (float64, exact through JSON). */
  lossSum: number;
  termSums: Record<string, number>;
  /** Seconds spent in those steps. */
  seconds: number;
  /** The shuffle stream before this epoch's permutation was drawn (it is drawn again on resume). */
  shuffleAtEpochStart: { rng: number[]; spare: number | null };
}

/** Everything in a checkpoint except the tensors. */
export interface CheckpointMeta {
  format: 2;
  model: ModelName;
  config: ModelConfig;
  configHash: string;
  seed: number;
  /** Everything that went into training: model, config hash, seed and the caller's data identity. */
  identity: TrainingIdentity;
  /** SHA-256 of the identity: checkpoints with the same key continue each other. */
  trainingKey: string;
  /** The ordered training list: image count and SHA-256 of paths and pixels. */
  trainList: { count: number; digest: string };
  /** Completed epochs (1-based count). */
  epoch: number;
  /** The epoch in progress when the checkpoint was written mid-epoch, else null. */
  partial: PartialEpoch | null;
  /** Optimiser steps taken. */
  optimizerStep: number;
  /** RNG stream states at the end of `epoch`. */
  rng: Record<string, { rng: number[]; spare: number | null }>;
  /** Per-epoch reports so far. */
  epochs: {
    epoch: number;
    loss: number;
    terms: Record<string, number>;
    imagesPerSecond: number;
    seconds: number;
  }[];
  /** Epoch whose weights the best-checkpoint policy keeps, and its mean loss. */
  bestEpoch: number;
  bestLoss: number;
  /** tfjs backend that produced it. */
  backend: string;
}

/** A tensor as stored. */
export interface StoredTensor {
  name: string;
  shape: number[];
  values: Float32Array;
}

interface Header {
  meta: CheckpointMeta;
  tensors: { name: string; shape: number[]; offset: number; length: number }[];
}

/** The file's bytes with magic and header written, and the float view the tensor data go into. */
function checkpointBuffer(
  meta: CheckpointMeta,
  tensors: { name: string; shape: number[]; size: number }[],
): { bytes: Uint8Array; data: Float32Array; entries: Header["tensors"] } {
  const entries: Header["tensors"] = [];
  let floats = 0;
  for (const { name, shape, size } of tensors) {
    entries.push({ name, shape, offset: floats, length: size });
    floats += size;
  }
  const headerBytes = new TextEncoder().encode(JSON.stringify({ meta, tensors: entries } satisfies Header));
  const dataStart = Math.ceil((12 + headerBytes.length) / 4) * 4;
  const bytes = new Uint8Array(dataStart + floats * 4);
  bytes.set(new TextEncoder().encode(MAGIC), 0);
  new DataView(bytes.buffer).setUint32(8, headerBytes.length, true);
  bytes.set(headerBytes, 12);
  return { bytes, data: new Float32Array(bytes.buffer, dataStart, floats), entries };
}

/**
 * Writes a checkpoint atomically. Tensor values are read with the async `data()` API, one at a time.
 *
 * @example
 * ```ts
 * await writeCheckpoint("runs/x/last.ckpt", meta, [{ name: "param:w", tensor: w }]);
 * ```
 */
export async function writeCheckpoint(
  path: string,
  meta: CheckpointMeta,
  tensors: { name: string; tensor: tf.Tensor }[],
): Promise<void> {
  const { bytes, data, entries } = checkpointBuffer(
    meta,
    tensors.map(({ name, tensor }) => ({ name, shape: tensor.shape, size: tensor.size })),
  );
  for (let i = 0; i < tensors.length; i++) {
    data.set(await tensors[i].tensor.data() as Float32Array, entries[i].offset);
  }
  await writeFileAtomic(path, bytes);
}

/**
 * Writes a checkpoint atomically from values already in memory (e.g. weights converted from another
 * format by `weights convert`).
 *
 * @example
 * ```ts
 * await writeCheckpointValues("model.ckpt", meta, [{ name: "param:w", shape: [2], values }]);
 * ```
 */
export async function writeCheckpointValues(
  path: string,
  meta: CheckpointMeta,
  tensors: StoredTensor[],
): Promise<void> {
  const { bytes, data, entries } = checkpointBuffer(
    meta,
    tensors.map(({ name, shape, values }) => ({ name, shape, size: values.length })),
  );
  tensors.forEach((t, i) => data.set(t.values, entries[i].offset));
  await writeFileAtomic(path, bytes);
}

/** Reads a checkpoint written by {@linkcode writeCheckpoint}. */
export async function readCheckpoint(
  path: string,
): Promise<{ meta: CheckpointMeta; tensors: Map<string, StoredTensor> }> {
  const bytes = await Deno.readFile(path);
  if (bytes.length < 12 || new TextDecoder().decode(bytes.subarray(0, 8)) !== MAGIC) {
    throw new Error(`${path} is not a vtadl-bench checkpoint (bad magic); delete it or pass another --out`);
  }
  const headerLength = new DataView(bytes.buffer, bytes.byteOffset).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(12, 12 + headerLength))) as Header;
  const dataStart = Math.ceil((12 + headerLength) / 4) * 4;
  const aligned = bytes.byteOffset % 4 === 0 ? bytes : bytes.slice();
  const tensors = new Map<string, StoredTensor>();
  for (const t of header.tensors) {
    const values = new Float32Array(aligned.buffer, aligned.byteOffset + dataStart + t.offset * 4, t.length);
    tensors.set(t.name, { name: t.name, shape: t.shape, values });
  }
  return { meta: header.meta, tensors };
}

/** Assigns stored values to a variable, checking the shape. */
export function restoreVariable(variable: tf.Variable, stored: StoredTensor | undefined, name: string): void {
  if (!stored) throw new Error(`checkpoint has no tensor ${name}; it was written by another model version`);
  if (stored.shape.join("x") !== variable.shape.join("x")) {
    throw new Error(
      `checkpoint tensor ${name} has shape ${stored.shape.join("×")}, model has ${variable.shape.join("×")}`,
    );
  }
  tf.tidy(() => variable.assign(tf.tensor(stored.values, stored.shape, "float32")));
}
