/**
 * The plan of a reproduction: every cell (category × model × seed) with everything fixed before it runs:
 * its resolved config and hash, preprocessing, evaluation settings, training key, cell key and run id.
 * Planning is pure and deterministic: the same request on the same data gives the same cells in the same
 * order with the same ids, so a plan can be printed, split into shards or run cell by cell elsewhere.
 *
 * - training key: SHA-256 over what training depends on (dataset, its content digest, category, model,
 *   config hash, seed, training subset, preprocessing). It names the cell's checkpoint folder, so a
 *   checkpoint is only ever continued by the same training.
 * - cell key: SHA-256 over the training key and the evaluation settings: what "the same cell" means for
 *   skipping completed work. The run id is readable and ends with its first 8 hex digits.
 * - cell id: `<dataset>.<category>.<model>.seed<S>`, the cell's place in the plan. It needs no data (so
 *   `deno task plan` prints it before anything is downloaded) and names one cell among the cells of the
 *   same reproduce arguments; `--cell ID` and `--shard I/N` select cells by it (`shard.ts`).
 *
 * @module
 */
import { join } from "node:path";
import { type DatasetName, DATASETS, type Preprocessing } from "../core/datasets.ts";
import { DEFAULT_INTEGRATION_LIMIT } from "../core/metrics.ts";
import {
  defaultImageScore,
  heatmapSigmaOf,
  type ImageScoreName,
  type ModelName,
  MODELS,
} from "../core/models.ts";
import { UsageError } from "../core/errors.ts";
import { configHash, type ModelConfig, resolveConfig } from "../models/configs.ts";
import type { EvalResolution, EvaluationSettings, ImportedWeights } from "../runs/record.ts";
import { canonicalJsonSha256 } from "../util/canonical_json.ts";
import { type TrainingIdentity, trainingKey } from "../train/identity.ts";
import type { SplitLimits } from "../eval/subsample.ts";

/** What to reproduce (the part of the reproduce options that decides the cells). */
export interface PlanRequest {
  dataset: DatasetName;
  models: ModelName[];
  /** Named config (`smoke`, `quick`, `mnist`, `code`, `paper`). */
  configName: string;
  /** `key=value` overrides passed to `resolveConfig`. */
  configOverrides?: Record<string, string>;
  seeds: number[];
  /** VT-ADL image score; default: what the config asks for. */
  imageScore?: ImageScoreName;
  /** VT-ADL heat-map Gaussian σ; default the config's `heatmapSigma`. */
  heatmapSigma?: number;
  /** Pixel metrics at the preprocessed size (default) or against the original masks. */
  evalResolution?: EvalResolution;
  /** Use at most this many training / test images per category. */
  limits?: SplitLimits;
  /**
   * Score these weights, trained elsewhere, instead of training (`reproduce --weights`). They become part
   * of the training identity, so such a cell never shares a run id, record or checkpoint with a trained one.
   */
  weights?: ImportedWeights;
}

/** The dataset as installed: what the plan needs to know of it. */
export interface PlannedDataset {
  /** SHA-256 of the installed files' manifest. */
  contentDigest: string;
  /** Categories to run, in order. */
  categories: string[];
}

/**
 * The categories a plan covers: the requested ones (checked against `available`, in the order given), else
 * every available one. `available` is what `listCategories` finds installed (sorted by name), or, before
 * anything is installed, {@linkcode knownCategories}: the same list for a complete dataset, so a plan
 * printed without data has the cells, in the same order, that the workers plan on the data.
 *
 * @example
 * ```ts
 * chooseCategories("synthetic", knownCategories("synthetic"), ["weave"]); // ["weave"]
 * ```
 */
export function chooseCategories(
  dataset: DatasetName,
  available: readonly string[],
  requested?: string[],
): string[] {
  if (!requested) return [...available];
  const unknown = requested.filter((c) => !available.includes(c));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown ${dataset} categor${unknown.length > 1 ? "ies" : "y"} ${unknown.join(", ")}: choose from ${
        available.join(", ")
      }`,
    );
  }
  return requested;
}

/**
 * Every category of a dataset as the registry knows it, sorted by name as `listCategories` sorts the
 * installed folders (the registry's own order is the paper's row order, which tables use).
 *
 * @example
 * ```ts
 * knownCategories("synthetic"); // ["disc", "lattice", "weave"]
 * ```
 */
export function knownCategories(dataset: DatasetName): string[] {
  return [...DATASETS[dataset].categories].sort();
}

/** Where a cell sits in a plan: what its id is made of. */
export interface CellCoordinates {
  dataset: DatasetName;
  category: string;
  model: ModelName;
  seed: number;
}

/** A cell of a plan before any data is known: its coordinates and its id. */
export interface PlannedCellId extends CellCoordinates {
  /** `<dataset>.<category>.<model>.seed<S>`, see {@linkcode cellIdOf}. */
  cellId: string;
}

/**
 * The id of a cell: `<dataset>.<category>.<model>.seed<S>`, characters other than letters, digits, `.`,
 * `_` and `-` replaced by `-`. Safe as a file name, a GitHub Actions artifact name and a Kubernetes
 * label value; stable across machines because it depends on nothing but the plan's coordinates.
 *
 * @example
 * ```ts
 * cellIdOf({ dataset: "synthetic", category: "disc", model: "vtadl", seed: 0 }); // "synthetic.disc.vtadl.seed0"
 * ```
 */
export function cellIdOf({ dataset, category, model, seed }: CellCoordinates): string {
  const safe = (s: string) => s.replace(/[^A-Za-z0-9_-]+/g, "-");
  return [dataset, safe(category), model, `seed${seed}`].join(".");
}

/**
 * The cells of a request over `categories`, in the one order every plan uses: category × model × seed.
 *
 * @example
 * ```ts
 * enumerateCells({ dataset: "synthetic", models: ["vtadl"], seeds: [0, 1] }, ["disc"]).map((c) => c.cellId);
 * // ["synthetic.disc.vtadl.seed0", "synthetic.disc.vtadl.seed1"]
 * ```
 */
export function enumerateCells(
  request: Pick<PlanRequest, "dataset" | "models" | "seeds">,
  categories: readonly string[],
): PlannedCellId[] {
  const cells: PlannedCellId[] = [];
  for (const category of categories) {
    for (const model of request.models) {
      for (const seed of request.seeds) {
        const coordinates = { dataset: request.dataset, category, model, seed };
        cells.push({ ...coordinates, cellId: cellIdOf(coordinates) });
      }
    }
  }
  return cells;
}

/** One cell, fully resolved. */
export interface CellPlan {
  /** 1-based position in the plan, and the plan's size. */
  index: number;
  total: number;
  /** The cell's place in the plan (`cellIdOf`); `--cell` and `--shard` select by it. */
  cellId: string;
  /** Run id: readable, unique per cell key. */
  runId: string;
  dataset: DatasetName;
  category: string;
  model: ModelName;
  seed: number;
  config: ModelConfig;
  configHash: string;
  preprocess: Preprocessing;
  /** Training subset, or null for the whole split. */
  subset: SplitLimits | null;
  evaluation: EvaluationSettings;
  /** Weights trained elsewhere that the cell scores instead of training, or null. */
  weights: ImportedWeights | null;
  /** Everything training depends on; its hash is `trainingKey`. */
  training: TrainingIdentity;
  trainingKey: string;
  cellKey: string;
}

/** A folder-safe id: the parts joined by `_`, ending with the key's first 8 hex digits. */
export function runIdOf(parts: (string | number)[], key: string): string {
  const safe = (s: string | number) => String(s).replace(/[^A-Za-z0-9.-]+/g, "-");
  return [...parts.map(safe), key.slice(0, 8)].join("_");
}

/** Where a cell's checkpoints live: one folder per training key under `<outDir>/checkpoints/`. */
export function checkpointDirOf(outDir: string, plan: CellPlan): string {
  return join(
    outDir,
    "checkpoints",
    runIdOf(
      [plan.dataset, plan.category, plan.model, plan.config.name, `seed${plan.seed}`],
      plan.trainingKey,
    ),
  );
}

/** The evaluation settings of a model under a config and the request's overrides. */
function evaluationOf(request: PlanRequest, model: ModelName, config: ModelConfig): EvaluationSettings {
  const spec = MODELS[model];
  const imageScore = request.imageScore && spec.imageScores.includes(request.imageScore)
    ? request.imageScore
    : defaultImageScore(config);
  return {
    imageScore,
    anomalyMap: spec.anomalyMap,
    heatmapSigma: spec.anomalyMap === "patchNll" ? request.heatmapSigma ?? heatmapSigmaOf(config) : 0,
    resolution: request.evalResolution ?? "preprocessed",
    integrationLimit: DEFAULT_INTEGRATION_LIMIT,
  };
}

/**
 * The resolved config of every model of a request. A bad `--config` or `--set` fails here (a usage error),
 * before any data is fetched.
 *
 * @example
 * ```ts
 * resolveRequestConfigs({ dataset: "synthetic", models: ["vtadl"], configName: "smoke", seeds: [0] }).vtadl;
 * ```
 */
export function resolveRequestConfigs(request: PlanRequest): Partial<Record<ModelName, ModelConfig>> {
  return Object.fromEntries(
    request.models.map((model) => [model, resolveConfig(model, request.configName, request.configOverrides)]),
  );
}

/**
 * Every cell of a request on an installed dataset, in category × model × seed order.
 *
 * @example
 * ```ts
 * const cells = planCells({ dataset: "synthetic", models: ["vtadl"], configName: "smoke", seeds: [0] },
 *   { contentDigest, categories: ["disc"] });
 * ```
 */
export function planCells(request: PlanRequest, dataset: PlannedDataset): CellPlan[] {
  const spec = DATASETS[request.dataset];
  const configs = resolveRequestConfigs(request);
  const cells: Omit<CellPlan, "index" | "total">[] = [];
  for (const { cellId, category, model, seed } of enumerateCells(request, dataset.categories)) {
    const config = configs[model]!;
    const hash = configHash(config);
    const preprocess = spec.preprocess(config);
    const subset = request.limits ?? null;
    const evaluation = evaluationOf(request, model, config);
    const training: TrainingIdentity = {
      model,
      configHash: hash,
      seed,
      data: {
        dataset: request.dataset,
        contentDigest: dataset.contentDigest,
        category,
        preprocess,
        subset,
        ...(request.weights ? { importedWeights: request.weights } : {}),
      },
    };
    const key = trainingKey(training);
    const cellKey = canonicalJsonSha256({ trainingKey: key, evaluation });
    cells.push({
      cellId,
      runId: runIdOf(
        [request.dataset, category, model, config.name, request.weights ? "imported" : `seed${seed}`],
        cellKey,
      ),
      dataset: request.dataset,
      category,
      model,
      seed,
      config,
      configHash: hash,
      preprocess,
      subset,
      evaluation,
      weights: request.weights ?? null,
      training,
      trainingKey: key,
      cellKey,
    });
  }
  return cells.map((c, i) => ({ ...c, index: i + 1, total: cells.length }));
}
