/**
 * The correspondence between the weights the original VT-ADL code saves and the harness's parameters
 * (`docs/original-code.md` §12), in both directions, validated against a config.
 *
 * `train.py:108-110` saves two state_dicts per product: `VT_AE_Mvtech_<product>.pt` (the ViT, the capsule
 * layer and the decoder) and `G_estimate_Mvtech_<product>.pt` (the MDN). {@linkcode vtadlWeightTable} lists
 * every key of both files beside the harness parameter it becomes and the layout change between them. It is
 * the one place to edit when the harness renames or regroups parameters.
 *
 * Layout changes (PyTorch → harness):
 * - `linearWeight`: `nn.Linear.weight` is [out, in]; the harness multiplies x·W with W [in, out].
 * - `convTranspose`: `nn.ConvTranspose2d.weight` is [cin, cout, kH, kW]; tfjs `conv2dTranspose` takes
 *   [kH, kW, cout, cin] (no kernel flip: both are the input-gradient of the same correlation).
 * - `capsule`: `DigitCaps.W` [1, caps, out, 8] is the projection of §2: capsule i = (D/8)·t + j holds
 *   features 8j…8j+7 of token t, so row 8i + d of the [N·D, out] matrix is W[0, i, :, d]
 *   (`W[0].permute(0, 2, 1).reshape(N·D, out)`, checked in §12 to 7e-7).
 * - `same`: identical shape and element order (LayerNorm, BatchNorm, biases, the class token, the
 *   positional embedding; the MDN's output units are (dimension ⌊o/K⌋, component o mod K) in both).
 * - `batchCounter`: BatchNorm's `num_batches_tracked` (int64 scalar) has no harness counterpart; it is
 *   ignored on import (eval mode never reads it) and written as a count on export.
 *
 * @module
 */
import type { VtadlConfig } from "../models/configs.ts";
import { decoderLayers, vtadlParamSpecs } from "../models/vtadl.ts";
import {
  elementCount,
  float32Tensor,
  formatShape,
  type ParameterValues,
  toFloat32,
  WeightFileError,
  type WeightMap,
  type WeightTensor,
} from "./tensor.ts";

/** Which of the two files of the original code a key lives in. */
export type OriginalFile = "vtae" | "mdn";

/** How a tensor's layout changes between the original and the harness (see the module doc). */
export type LayoutTransform = "same" | "linearWeight" | "convTranspose" | "capsule" | "batchCounter";

/** One row of the mapping table. */
export interface WeightMapping {
  /** Harness parameter name (as in `vtadlParamSpecs`), or null for original-only state. */
  harness: string | null;
  /** The original file holding `key`. */
  file: OriginalFile;
  /** The original state_dict key. */
  key: string;
  transform: LayoutTransform;
}

/** The original code's two state_dicts. */
export interface OriginalStateDicts {
  /** `VT_AE_*.pt`: `vt.*`, `Digcap.W`, `decoder.decoder2.*`. */
  vtae: WeightMap;
  /** `G_estimate_*.pt`: `pi.weight`, `mu.weight`, `sigma_sq.weight`. */
  mdn: WeightMap;
}

/** File names the original training writes, for messages. */
export const ORIGINAL_FILE_LABELS: Readonly<Record<OriginalFile, string>> = {
  vtae: "VT_AE_*.pt (ViT, capsule layer, decoder)",
  mdn: "G_estimate_*.pt (MDN)",
};

/** Features per capsule: `DigitCaps(in_dim_caps=8)` (VT_AE.py:40). */
const CAPSULE_DIM = 8;

/**
 * Every original key of a VT-ADL config with its harness parameter and layout change, in the original
 * files' key order. The keys follow the module tree of the original code: `vt` (student_transformer.ViT,
 * `layers.l.0` = Residual(PreNorm(Attention)), `layers.l.1` = Residual(PreNorm(FeedForward))), `Digcap`
 * (spatial.DigitCaps), `decoder.decoder2` (model_res18.decoder2: ConvT, BN, ReLU per layer, so ConvT
 * index 3i and BN index 3i+1) and the MDN's three heads (mdn1.MDN).
 *
 * @example
 * ```ts
 * vtadlWeightTable(resolveConfig("vtadl", "code") as VtadlConfig).length; // 111
 * ```
 */
export function vtadlWeightTable(config: VtadlConfig): WeightMapping[] {
  const rows: WeightMapping[] = [];
  const vt = (key: string, harness: string, transform: LayoutTransform = "same") =>
    rows.push({ harness, file: "vtae", key, transform });
  // A module's own parameters precede its submodules' in a state_dict.
  vt("vt.pos_embedding", "encoder.pos");
  vt("vt.cls_token", "encoder.cls");
  vt("vt.patch_to_embedding.weight", "encoder.patch.w", "linearWeight");
  vt("vt.patch_to_embedding.bias", "encoder.patch.b");
  for (let l = 0; l < config.depth; l++) {
    const at = `encoder.layer${l}`;
    const attn = `vt.transformer.layers.${l}.0.fn`;
    const ff = `vt.transformer.layers.${l}.1.fn`;
    vt(`${attn}.norm.weight`, `${at}.ln1.g`);
    vt(`${attn}.norm.bias`, `${at}.ln1.b`);
    vt(`${attn}.fn.to_qkv.weight`, `${at}.qkv.w`, "linearWeight");
    vt(`${attn}.fn.to_out.0.weight`, `${at}.out.w`, "linearWeight");
    vt(`${attn}.fn.to_out.0.bias`, `${at}.out.b`);
    vt(`${ff}.norm.weight`, `${at}.ln2.g`);
    vt(`${ff}.norm.bias`, `${at}.ln2.b`);
    vt(`${ff}.fn.net.0.weight`, `${at}.ff1.w`, "linearWeight");
    vt(`${ff}.fn.net.0.bias`, `${at}.ff1.b`);
    vt(`${ff}.fn.net.2.weight`, `${at}.ff2.w`, "linearWeight");
    vt(`${ff}.fn.net.2.bias`, `${at}.ff2.b`);
  }
  decoderLayers(config).forEach((layer, i) => {
    const conv = `decoder.decoder2.${3 * i}`;
    vt(`${conv}.weight`, `decoder.layer${i}.w`, "convTranspose");
    vt(`${conv}.bias`, `decoder.layer${i}.b`);
    if (layer.activation !== "bnRelu") return;
    const bn = `decoder.decoder2.${3 * i + 1}`;
    vt(`${bn}.weight`, `decoder.layer${i}.bn.g`);
    vt(`${bn}.bias`, `decoder.layer${i}.bn.b`);
    vt(`${bn}.running_mean`, `decoder.layer${i}.bn.mean`);
    vt(`${bn}.running_var`, `decoder.layer${i}.bn.var`);
    rows.push({ harness: null, file: "vtae", key: `${bn}.num_batches_tracked`, transform: "batchCounter" });
  });
  vt("Digcap.W", "projection.w", "capsule");
  rows.push(
    { harness: "mdn.pi.w", file: "mdn", key: "pi.weight", transform: "linearWeight" },
    { harness: "mdn.mu.w", file: "mdn", key: "mu.weight", transform: "linearWeight" },
    { harness: "mdn.sigma.w", file: "mdn", key: "sigma_sq.weight", transform: "linearWeight" },
  );
  return rows;
}

/** The original shape of a harness shape under a layout change. */
function originalShape(harnessShape: number[], transform: LayoutTransform): number[] {
  switch (transform) {
    case "same":
      return harnessShape;
    case "linearWeight":
      return [harnessShape[1], harnessShape[0]];
    case "convTranspose": {
      const [kh, kw, cout, cin] = harnessShape;
      return [cin, cout, kh, kw];
    }
    case "capsule":
      return [1, harnessShape[0] / CAPSULE_DIM, harnessShape[1], CAPSULE_DIM];
    case "batchCounter":
      return [];
  }
}

/** Rearranges original-layout values into the harness layout (`toHarness`) or back. */
function relayout(
  values: Float32Array,
  harnessShape: number[],
  transform: LayoutTransform,
  toHarness: boolean,
): Float32Array {
  if (transform === "same" || transform === "batchCounter") return values.slice();
  const out = new Float32Array(values.length);
  if (transform === "linearWeight") {
    const [inDim, outDim] = harnessShape; // harness [in, out] ↔ original [out, in]
    for (let i = 0; i < inDim; i++) {
      for (let o = 0; o < outDim; o++) {
        if (toHarness) out[i * outDim + o] = values[o * inDim + i];
        else out[o * inDim + i] = values[i * outDim + o];
      }
    }
    return out;
  }
  if (transform === "convTranspose") {
    const [kh, kw, cout, cin] = harnessShape; // harness [kh, kw, cout, cin] ↔ original [cin, cout, kh, kw]
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let co = 0; co < cout; co++) {
          for (let ci = 0; ci < cin; ci++) {
            const h = ((y * kw + x) * cout + co) * cin + ci;
            const p = ((ci * cout + co) * kh + y) * kw + x;
            if (toHarness) out[h] = values[p];
            else out[p] = values[h];
          }
        }
      }
    }
    return out;
  }
  // capsule: harness [caps·8, out] row 8i + d ↔ original W[0, i, o, d]
  const [rowsCount, outDim] = harnessShape;
  const caps = rowsCount / CAPSULE_DIM;
  for (let i = 0; i < caps; i++) {
    for (let o = 0; o < outDim; o++) {
      for (let d = 0; d < CAPSULE_DIM; d++) {
        const h = (i * CAPSULE_DIM + d) * outDim + o;
        const p = (i * outDim + o) * CAPSULE_DIM + d;
        if (toHarness) out[h] = values[p];
        else out[p] = values[h];
      }
    }
  }
  return out;
}

/** Harness shapes of every parameter and state tensor of a config, by name. */
function harnessShapes(config: VtadlConfig): Map<string, number[]> {
  return new Map(vtadlParamSpecs(config).map((s) => [s.name, s.shape]));
}

/** Checks that the table and the model's parameter list name exactly the same tensors. */
function checkTableCoversModel(table: WeightMapping[], shapes: Map<string, number[]>): void {
  const mapped = new Set(table.flatMap((r) => (r.harness ? [r.harness] : [])));
  const unmapped = [...shapes.keys()].filter((n) => !mapped.has(n));
  const unknown = [...mapped].filter((n) => !shapes.has(n));
  if (unmapped.length > 0 || unknown.length > 0) {
    throw new Error(
      `vtadl weight table is out of date with vtadlParamSpecs: unmapped parameters [${
        unmapped.join(", ")
      }], ` +
        `unknown names [${unknown.join(", ")}]; update src/weights/vtadl_mapping.ts`,
    );
  }
}

function describeConfig(config: VtadlConfig): string {
  return `config '${config.name}' (image ${config.imageSize}, patch ${config.patchSize}, dim ${config.dim}, depth ${config.depth}, mlp ${config.mlpDim}, K ${config.numGaussians}, decoder ${config.decoder})`;
}

/** A hint for the common mismatches: the number of Gaussians, the depth. */
function mismatchHint(row: WeightMapping, actual: number[], config: VtadlConfig): string {
  if (row.file === "mdn" && actual.length === 2 && actual[1] === config.dim) {
    const k = row.key === "pi.weight" ? actual[0] : actual[0] / config.dim;
    if (Number.isInteger(k) && k !== config.numGaussians) {
      return `; the file has K = ${k} Gaussians: use --set numGaussians=${k}`;
    }
  }
  return "";
}

/** Strips a `module.` prefix that `nn.DataParallel` adds to every key, when all keys have it. */
function withoutDataParallelPrefix(map: WeightMap): WeightMap {
  const keys = [...map.keys()];
  if (keys.length === 0 || !keys.every((k) => k.startsWith("module."))) return map;
  return new Map([...map].map(([k, v]) => [k.slice("module.".length), v]));
}

/** Options of {@linkcode originalToHarness}. */
export interface OriginalSources {
  /** Name of the VT_AE file, for messages. Default `VT_AE file`. */
  vtae?: string;
  /** Name of the G_estimate file, for messages. Default `G_estimate file`. */
  mdn?: string;
}

/**
 * Converts the original code's two state_dicts into harness parameters (by harness name, harness layout),
 * checking every key and shape against `config`. Throws one error listing what does not fit: missing
 * keys, keys the config does not have (a different depth or decoder), shapes that differ (with the fix
 * for a different number of Gaussians), non-float tensors and non-finite values. `num_batches_tracked` is
 * ignored; a `module.` prefix (DataParallel) is stripped.
 *
 * @example
 * ```ts
 * const params = originalToHarness({ vtae, mdn }, resolveConfig("vtadl", "code") as VtadlConfig);
 * params.get("projection.w")!.shape; // [32768, 512]
 * ```
 */
export function originalToHarness(
  files: OriginalStateDicts,
  config: VtadlConfig,
  sources: OriginalSources = {},
): Map<string, ParameterValues> {
  const names: Record<OriginalFile, string> = {
    vtae: sources.vtae ?? "VT_AE file",
    mdn: sources.mdn ?? "G_estimate file",
  };
  const table = vtadlWeightTable(config);
  const shapes = harnessShapes(config);
  checkTableCoversModel(table, shapes);
  const maps: Record<OriginalFile, WeightMap> = {
    vtae: withoutDataParallelPrefix(files.vtae),
    mdn: withoutDataParallelPrefix(files.mdn),
  };
  const problems: string[] = [];
  const out = new Map<string, ParameterValues>();
  for (const row of table) {
    const tensor = maps[row.file].get(row.key);
    if (!tensor) {
      if (row.transform !== "batchCounter") problems.push(`${names[row.file]} lacks '${row.key}'`);
      continue;
    }
    if (row.harness === null) continue;
    const harnessShape = shapes.get(row.harness)!;
    const expected = originalShape(harnessShape, row.transform);
    if (formatShape(tensor.shape) !== formatShape(expected)) {
      problems.push(
        `${names[row.file]} '${row.key}' is ${formatShape(tensor.shape)}, expected ${formatShape(expected)}${
          mismatchHint(row, tensor.shape, config)
        }`,
      );
      continue;
    }
    if (!["F32", "F64", "F16", "BF16"].includes(tensor.dtype)) {
      problems.push(`${names[row.file]} '${row.key}' has dtype ${tensor.dtype}; expected a float tensor`);
      continue;
    }
    const values = toFloat32(tensor);
    const bad = values.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) {
      problems.push(
        `${names[row.file]} '${row.key}' holds ${
          values[bad]
        } at element ${bad}; the training that wrote it diverged`,
      );
      continue;
    }
    out.set(row.harness, {
      shape: harnessShape,
      values: relayout(values, harnessShape, row.transform, true),
    });
  }
  for (const file of ["vtae", "mdn"] as const) {
    const known = new Set(table.filter((r) => r.file === file).map((r) => r.key));
    const extra = [...maps[file].keys()].filter((k) => !known.has(k));
    if (extra.length > 0) {
      const shown = extra.slice(0, 8).map((k) => `'${k}'`).join(", ");
      problems.push(
        `${names[file]} has ${extra.length} key(s) ${describeConfig(config)} does not have: ${shown}${
          extra.length > 8 ? ", …" : ""
        }`,
      );
    }
  }
  if (problems.length > 0) {
    throw new WeightFileError(
      `the original weights do not fit ${describeConfig(config)}: ${problems.slice(0, 12).join("; ")}${
        problems.length > 12 ? `; and ${problems.length - 12} more` : ""
      }`,
    );
  }
  return out;
}

/** Options of {@linkcode harnessToOriginal}. */
export interface HarnessExportOptions {
  /** Value written to every BatchNorm's `num_batches_tracked` (optimiser steps). Default 0. */
  numBatchesTracked?: number;
}

/**
 * Converts harness parameters into the original code's two state_dicts (original keys, PyTorch layouts,
 * float32; `num_batches_tracked` as int64), in the original files' key order, so that
 * `VT_AE.load_state_dict` and `MDN.load_state_dict` accept them. Throws naming any parameter that is
 * missing or has another shape than `config` gives it.
 *
 * @example
 * ```ts
 * const { vtae, mdn } = harnessToOriginal(params, config);
 * await Deno.writeFile("VT_AE_Mvtech_cable.pt", encodeTorchStateDict(vtae, { archiveName: "VT_AE_Mvtech_cable" }));
 * ```
 */
export function harnessToOriginal(
  params: ReadonlyMap<string, ParameterValues>,
  config: VtadlConfig,
  options: HarnessExportOptions = {},
): OriginalStateDicts {
  const { numBatchesTracked = 0 } = options;
  const table = vtadlWeightTable(config);
  const shapes = harnessShapes(config);
  checkTableCoversModel(table, shapes);
  const out: OriginalStateDicts = { vtae: new Map(), mdn: new Map() };
  const problems: string[] = [];
  for (const row of table) {
    if (row.harness === null) {
      const counter = new Uint8Array(8);
      new DataView(counter.buffer).setBigInt64(0, BigInt(numBatchesTracked), true);
      out[row.file].set(row.key, { dtype: "I64", shape: [], data: counter });
      continue;
    }
    const param = params.get(row.harness);
    const shape = shapes.get(row.harness)!;
    if (!param) {
      problems.push(`missing parameter '${row.harness}'`);
      continue;
    }
    if (formatShape(param.shape) !== formatShape(shape) || param.values.length !== elementCount(shape)) {
      problems.push(
        `parameter '${row.harness}' is ${formatShape(param.shape)}, expected ${formatShape(shape)}`,
      );
      continue;
    }
    const values = relayout(param.values, shape, row.transform, false);
    out[row.file].set(row.key, float32Tensor(originalShape(shape, row.transform), values));
  }
  if (problems.length > 0) {
    throw new WeightFileError(
      `cannot export to the original layout for ${describeConfig(config)}: ${problems.join("; ")}`,
    );
  }
  return out;
}

/**
 * Sorts state_dicts into the VT_AE and G_estimate roles by their keys (either order on the command line).
 * Throws when the pair is not one of each.
 *
 * @example
 * ```ts
 * const { vtae, mdn } = assignOriginalFiles([{ source: "b.pt", map: mdnMap }, { source: "a.pt", map: vtMap }]);
 * ```
 */
export function assignOriginalFiles(
  files: { source: string; map: WeightMap }[],
): OriginalStateDicts & { sources: Required<OriginalSources> } {
  const roleOf = (map: WeightMap): OriginalFile | null => {
    const keys = [...withoutDataParallelPrefix(map).keys()];
    if (keys.some((k) => k.startsWith("vt.") || k.startsWith("Digcap."))) return "vtae";
    if (keys.includes("pi.weight") && keys.includes("mu.weight")) return "mdn";
    return null;
  };
  const found: Partial<Record<OriginalFile, { source: string; map: WeightMap }>> = {};
  for (const f of files) {
    const role = roleOf(f.map);
    if (role === null) {
      throw new WeightFileError(
        `${f.source}: neither a VT_AE state_dict (vt.*, Digcap.W, decoder.*) nor a G_estimate one (pi/mu/sigma_sq.weight)`,
      );
    }
    if (found[role]) {
      throw new WeightFileError(
        `${found[role]!.source} and ${f.source} are both ${ORIGINAL_FILE_LABELS[role]}`,
      );
    }
    found[role] = f;
  }
  for (const role of ["vtae", "mdn"] as const) {
    if (!found[role]) {
      throw new WeightFileError(
        `missing the ${
          ORIGINAL_FILE_LABELS[role]
        } file: the original code saves two files per product; pass both`,
      );
    }
  }
  return {
    vtae: found.vtae!.map,
    mdn: found.mdn!.map,
    sources: { vtae: found.vtae!.source, mdn: found.mdn!.source },
  };
}

/**
 * Both original state_dicts in one map (their keys never collide), e.g. for one safetensors file with the
 * original's key names; {@linkcode splitOriginalKeys} undoes it.
 */
export function mergeOriginalFiles(files: OriginalStateDicts): WeightMap {
  return new Map<string, WeightTensor>([...files.vtae, ...files.mdn]);
}

/**
 * Splits a map holding both files' keys (see {@linkcode mergeOriginalFiles}) back into the two
 * state_dicts by the table of `config`; keys the table does not know stay in `vtae` so that the
 * validation of {@linkcode originalToHarness} reports them.
 */
export function splitOriginalKeys(merged: WeightMap, config: VtadlConfig): OriginalStateDicts {
  const mdnKeys = new Set(vtadlWeightTable(config).filter((r) => r.file === "mdn").map((r) => r.key));
  const out: OriginalStateDicts = { vtae: new Map(), mdn: new Map() };
  for (const [k, v] of merged) (mdnKeys.has(k) ? out.mdn : out.vtae).set(k, v);
  return out;
}
