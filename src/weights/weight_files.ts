/**
 * Weight files on disk, whatever their format: the original code's `.pt` pair (`VT_AE_*.pt` +
 * `G_estimate_*.pt`), a safetensors file with the original's key names and layouts, or a harness checkpoint
 * (`src/train/checkpoint.ts`). {@linkcode loadWeightFiles} detects the format from the content, checks
 * every tensor against a config and returns the harness parameters together with where they came from
 * (file name and SHA-256), so that `infer`, `weights convert` and `reproduce --weights` load weights one way.
 * {@linkcode saveWeights} writes any of the three formats atomically.
 *
 * @module
 */
import { createHash } from "node:crypto";
import { basename, dirname, join } from "node:path";
import { UsageError } from "../core/errors.ts";
import type { ModelName } from "../core/models.ts";
import { configHash, type ModelConfig, type VtadlConfig } from "../models/configs.ts";
import { buildNetwork, paramSpecs } from "../models/network.ts";
import { TrainedModel } from "../train/trainer.ts";
import { RandomStream } from "../util/rng.ts";
import { assignParameters } from "./assign.ts";
import { type CheckpointMeta, readCheckpoint, writeCheckpointValues } from "../train/checkpoint.ts";
import { type TrainingIdentity, trainingKey } from "../train/identity.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { canonicalJsonSha256 } from "../util/canonical_json.ts";
import { encodeSafetensors, readSafetensors } from "./safetensors.ts";
import { encodeTorchStateDict, readTorchStateDict } from "./torch_file.ts";
import { formatShape, type ParameterValues, WeightFileError } from "./tensor.ts";
import {
  assignOriginalFiles,
  harnessToOriginal,
  mergeOriginalFiles,
  originalToHarness,
  splitOriginalKeys,
} from "./vtadl_mapping.ts";

/** The three weight formats: the original `.pt` pair, safetensors (original keys), harness checkpoint. */
export const WEIGHT_FORMATS = ["torch", "safetensors", "checkpoint"] as const;

/** One of {@linkcode WEIGHT_FORMATS}. */
export type WeightFormat = typeof WEIGHT_FORMATS[number];

/** One weight file as read: its name (no folders, so records stay portable), digest and format. */
export interface WeightSource {
  /** The file's base name. */
  name: string;
  /** SHA-256 of the file's bytes. */
  sha256: string;
  format: WeightFormat;
}

/** What {@linkcode loadWeightFiles} returns. */
export interface LoadedWeights {
  /** Every parameter and state tensor of the config, by harness name, in the harness layout. */
  params: Map<string, ParameterValues>;
  /** The files read, in the order of their role (VT_AE before G_estimate). */
  sources: WeightSource[];
  /** SHA-256 over the files' sorted digests: the identity of the weights, whatever the order given. */
  digest: string;
  /** BatchNorm steps stored with the weights (`num_batches_tracked`, or a checkpoint's optimiser steps). */
  steps: number;
}

const CHECKPOINT_MAGIC = "VTADLCK1";

/**
 * The format of a weight file from its first bytes: a zip (`PK\x03\x04`) is a PyTorch state_dict, the
 * `VTADLCK1` magic a harness checkpoint, an 8-byte length followed by `{` a safetensors file. Throws naming
 * the file otherwise.
 *
 * @example
 * ```ts
 * detectWeightFormat(await Deno.readFile("VT_AE_Mvtech_cable.pt"), "VT_AE_Mvtech_cable.pt"); // "torch"
 * ```
 */
export function detectWeightFormat(bytes: Uint8Array, source: string): WeightFormat {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return "torch";
  if (bytes.length >= 8 && new TextDecoder().decode(bytes.subarray(0, 8)) === CHECKPOINT_MAGIC) {
    return "checkpoint";
  }
  if (bytes.length >= 9 && bytes[8] === 0x7b) return "safetensors";
  if (bytes[0] === 0x80) return "torch"; // a bare pickle: legacy torch.save, refused by the reader with the fix
  throw new WeightFileError(
    `${source}: not a weight file this harness reads: expected a PyTorch state_dict (.pt, zip), a ` +
      "safetensors file or a vtadl-bench checkpoint (.ckpt)",
  );
}

function sha256(bytes: Uint8Array): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/** The identity of a set of weight files: SHA-256 over their sorted SHA-256s (order-independent). */
function weightsDigest(files: { sha256: string }[]): string {
  return canonicalJsonSha256(files.map((f) => f.sha256).sort());
}

function requireVtadl(config: ModelConfig, message: string): VtadlConfig {
  if (config.model !== "vtadl") throw new UsageError(message);
  return config as VtadlConfig;
}

/** One or two weight files: a safetensors file or checkpoint, or the original's `.pt` pair. */
function checkWeightCount(paths: string[]): void {
  if (paths.length === 0 || paths.length > 2) {
    throw new UsageError(
      `--weights takes one file (safetensors or checkpoint) or the original's two .pt files, got ${paths.length}`,
    );
  }
}

/** A weight file's bytes, format and identity; a missing file is a usage error. */
async function readWeightFile(
  path: string,
): Promise<{ path: string; bytes: Uint8Array; format: WeightFormat; source: WeightSource }> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`--weights ${path}: file not found`);
    throw error;
  }
  const format = detectWeightFormat(bytes, path);
  return { path, bytes, format, source: { name: basename(path), sha256: sha256(bytes), format } };
}

/** Checks harness parameters against a config's specs: every one present, same shape, nothing extra. */
function checkAgainstConfig(
  params: Map<string, ParameterValues>,
  config: ModelConfig,
  source: string,
  writtenWith: ModelConfig,
): void {
  const problems: string[] = [];
  const specs = paramSpecs(config);
  for (const spec of specs) {
    const p = params.get(spec.name);
    if (!p) problems.push(`lacks '${spec.name}'`);
    else if (formatShape(p.shape) !== formatShape(spec.shape)) {
      problems.push(`'${spec.name}' is ${formatShape(p.shape)}, config needs ${formatShape(spec.shape)}`);
    }
  }
  const known = new Set(specs.map((s) => s.name));
  const extra = [...params.keys()].filter((k) => !known.has(k));
  if (extra.length > 0) problems.push(`has tensors the config does not: ${extra.slice(0, 6).join(", ")}`);
  if (problems.length > 0) {
    throw new WeightFileError(
      `${source} does not fit ${config.model}/${config.name}: ${problems.slice(0, 10).join("; ")}${
        problems.length > 10 ? `; and ${problems.length - 10} more` : ""
      }; it was written with config '${writtenWith.name}': pass the --config/--set it was trained with`,
    );
  }
}

/** The `num_batches_tracked` of the first BatchNorm of a VT_AE state_dict, or 0. */
function batchesTracked(vtae: Map<string, { dtype: string; data: Uint8Array }>): number {
  for (const [k, t] of vtae) {
    if (k.endsWith("num_batches_tracked") && t.dtype === "I64" && t.data.length === 8) {
      return Number(new DataView(t.data.buffer, t.data.byteOffset, 8).getBigInt64(0, true));
    }
  }
  return 0;
}

/**
 * Reads weights from one file (a safetensors file or a harness checkpoint) or two (the original `.pt`
 * pair, in either order), checks them against `config` (every key and shape, with the key and both shapes
 * in the error) and returns them in the harness layout with their provenance.
 *
 * @example
 * ```ts
 * const w = await loadWeightFiles(["VT_AE_Mvtech_cable.pt", "G_estimate_Mvtech_cable.pt"], config);
 * assignParameters(network, w.params);
 * ```
 */
export async function loadWeightFiles(paths: string[], config: ModelConfig): Promise<LoadedWeights> {
  checkWeightCount(paths);
  const files = await Promise.all(paths.map(readWeightFile));
  const formats = new Set(files.map((f) => f.format));
  if (files.length === 2 && (formats.size !== 1 || !formats.has("torch"))) {
    throw new UsageError(
      `two --weights files must be the original's .pt pair (VT_AE_*.pt and G_estimate_*.pt); got ${
        files.map((f) => `${f.path} (${f.format})`).join(" and ")
      }`,
    );
  }
  let params: Map<string, ParameterValues>;
  let sources = files.map((f) => f.source);
  let steps = 0;
  const first = files[0];
  const originalLayoutOnly =
    `${first.path} holds VT-ADL weights (the original code's layout); --model ${config.model} ` +
    "takes a harness checkpoint only";
  if (first.format === "torch") {
    const vt = requireVtadl(config, originalLayoutOnly);
    if (files.length !== 2) {
      throw new UsageError(
        `${first.path} is one PyTorch state_dict; the original code saves two per product (VT_AE_*.pt and G_estimate_*.pt): pass both with --weights`,
      );
    }
    const pair = assignOriginalFiles(
      files.map((f) => ({ source: f.path, map: readTorchStateDict(f.bytes, f.path) })),
    );
    params = originalToHarness(pair, vt, pair.sources);
    sources = [pair.sources.vtae, pair.sources.mdn].map((p) => files.find((f) => f.path === p)!.source);
    steps = batchesTracked(pair.vtae);
  } else if (first.format === "safetensors") {
    const vt = requireVtadl(config, originalLayoutOnly);
    const { tensors } = readSafetensors(first.bytes, first.path);
    const pair = splitOriginalKeys(tensors, vt);
    params = originalToHarness(pair, vt, { vtae: first.path, mdn: first.path });
    steps = batchesTracked(pair.vtae);
  } else {
    const { meta, tensors } = await readCheckpoint(first.path);
    if (meta.model !== config.model) {
      throw new UsageError(`${first.path} holds a ${meta.model} model; pass --model ${meta.model}`);
    }
    params = new Map();
    for (const [name, t] of tensors) {
      if (name.startsWith("param:")) params.set(name.slice(6), { shape: t.shape, values: t.values });
    }
    checkAgainstConfig(params, config, first.path, meta.config);
    steps = meta.optimizerStep;
  }
  return { params, sources, digest: weightsDigest(sources), steps };
}

/**
 * Where `saveWeights` writes: one path per file. A single `.pt` path must name the VT_AE file
 * (`VT_AE_<name>.pt`); its G_estimate file is written beside it as the original names it
 * (`G_estimate_<name>.pt`).
 */
export function outputFiles(to: string[]): { format: WeightFormat; paths: string[] } {
  if (to.length === 0 || to.length > 2) {
    throw new UsageError(
      `--to takes one file, or two .pt files (VT_AE_*.pt and G_estimate_*.pt), got ${to.length}`,
    );
  }
  const ext = (p: string) => p.slice(p.lastIndexOf(".")).toLowerCase();
  if (to.every((p) => ext(p) === ".pt" || ext(p) === ".pth")) {
    if (to.length === 2) {
      // The G_estimate file is named so by the original; otherwise the order given is VT_AE, G_estimate.
      const mdnFirst = basename(to[0]).startsWith("G_estimate") && !basename(to[1]).startsWith("G_estimate");
      return { format: "torch", paths: mdnFirst ? [to[1], to[0]] : to };
    }
    const name = basename(to[0]);
    if (!name.startsWith("VT_AE_")) {
      throw new UsageError(
        `--to ${
          to[0]
        }: a single .pt output must be named VT_AE_<name>.pt (its G_estimate_<name>.pt is written beside it), or pass --to twice`,
      );
    }
    return { format: "torch", paths: [to[0], join(dirname(to[0]), `G_estimate_${name.slice(6)}`)] };
  }
  if (to.length === 1 && ext(to[0]) === ".safetensors") return { format: "safetensors", paths: to };
  if (to.length === 1 && ext(to[0]) === ".ckpt") return { format: "checkpoint", paths: to };
  throw new UsageError(
    `--to ${
      to.join(" ")
    }: name the output VT_AE_<name>.pt (the original pair), <name>.safetensors or <name>.ckpt (harness checkpoint)`,
  );
}

/** Options of {@linkcode saveWeights}. */
export interface SaveWeightsOptions {
  /** Where the weights came from (recorded in safetensors metadata and the checkpoint's identity). */
  sources: WeightSource[];
  /** BatchNorm steps (`num_batches_tracked`, the checkpoint's optimiser step). Default 0. */
  steps?: number;
}

/**
 * Writes harness parameters in `format` to `paths` (from {@linkcode outputFiles}), each atomically. A
 * checkpoint written here carries a training identity naming the source files, so training never
 * continues it as one of its own.
 *
 * @example
 * ```ts
 * await saveWeights(w.params, config, outputFiles(["model.safetensors"]), { sources: w.sources });
 * ```
 */
export async function saveWeights(
  params: Map<string, ParameterValues>,
  config: ModelConfig,
  target: { format: WeightFormat; paths: string[] },
  options: SaveWeightsOptions,
): Promise<void> {
  const { steps = 0 } = options;
  if (target.format === "checkpoint") {
    const identity: TrainingIdentity = {
      model: config.model as ModelName,
      configHash: configHash(config),
      seed: 0,
      data: { importedWeights: options.sources.map(({ name, sha256 }) => ({ name, sha256 })) },
    };
    const meta: CheckpointMeta = {
      format: 2,
      model: config.model as ModelName,
      config,
      configHash: identity.configHash,
      seed: 0,
      identity,
      trainingKey: trainingKey(identity),
      trainList: { count: 0, digest: "imported" },
      epoch: 0,
      partial: null,
      optimizerStep: steps,
      rng: {},
      epochs: [],
      bestEpoch: 0,
      bestLoss: 0,
      backend: "imported",
    };
    const tensors = paramSpecs(config).map((spec) => ({
      name: `param:${spec.name}`,
      shape: spec.shape,
      values: params.get(spec.name)!.values,
    }));
    await writeCheckpointValues(target.paths[0], meta, tensors);
    return;
  }
  const original = harnessToOriginal(
    params,
    requireVtadl(
      config,
      `the original layout (.pt, safetensors) is VT-ADL's; --model ${config.model} converts to a .ckpt only`,
    ),
    {
      numBatchesTracked: steps,
    },
  );
  if (target.format === "safetensors") {
    const metadata = {
      format: "pt",
      layout: "vtadl-original",
      config: config.name,
      sources: JSON.stringify(options.sources.map(({ name, sha256 }) => ({ name, sha256 }))),
    };
    await writeFileAtomic(target.paths[0], encodeSafetensors(mergeOriginalFiles(original), metadata));
    return;
  }
  const archive = (p: string) => basename(p).replace(/\.pth?$/i, "");
  const [vtaePath, mdnPath] = target.paths;
  await writeFileAtomic(vtaePath, encodeTorchStateDict(original.vtae, { archiveName: archive(vtaePath) }));
  await writeFileAtomic(mdnPath, encodeTorchStateDict(original.mdn, { archiveName: archive(mdnPath) }));
}

/**
 * The identity of weight files without reading them as weights: base names, SHA-256 and detected format
 * in role order (a `.pt` pair is ordered VT_AE, G_estimate by name, else as given), and the digest over
 * them, as {@linkcode loadWeightFiles} computes it. `reproduce --weights` plans its cells with this.
 *
 * @example
 * ```ts
 * const { digest, files } = await identifyWeightFiles(["model.safetensors"]);
 * ```
 */
export async function identifyWeightFiles(
  paths: string[],
): Promise<{ source: "imported"; digest: string; files: WeightSource[] }> {
  checkWeightCount(paths);
  const files = (await Promise.all(paths.map(readWeightFile))).map((f) => f.source);
  if (
    files.length === 2 && files[0].name.startsWith("G_estimate") && !files[1].name.startsWith("G_estimate")
  ) {
    files.reverse();
  }
  return { source: "imported", digest: weightsDigest(files), files };
}

/**
 * Loads weight files into a model of `config` for scoring ({@linkcode loadWeightFiles} then
 * {@linkcode assignParameters}), checking that the files still have the digest they were planned with.
 *
 * @example
 * ```ts
 * const model = await loadWeightsModel(["VT_AE_x.pt", "G_estimate_x.pt"], config, planned.digest);
 * ```
 */
export async function loadWeightsModel(
  paths: string[],
  config: ModelConfig,
  digest: string,
): Promise<TrainedModel> {
  const weights = await loadWeightFiles(paths, config);
  if (weights.digest !== digest) {
    throw new WeightFileError(
      `${paths.join(" and ")} changed since the run was planned (digest ${
        weights.digest.slice(0, 12)
      }, planned ${digest.slice(0, 12)}); run the command again`,
    );
  }
  const network = buildNetwork(config, RandomStream.derive(0, "init"));
  try {
    assignParameters(network, weights.params);
  } catch (error) {
    network.dispose();
    throw error;
  }
  return new TrainedModel(network, 0, 0);
}
