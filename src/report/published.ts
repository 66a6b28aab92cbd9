/**
 * Published numbers as data: every "as published" cell of the report tables, with its source, the metric
 * definition it is believed to follow, a verification tag and its caveats, transcribed from the cited
 * papers (what each table holds: `docs/published-results.md` §1 Table II, §2 Table III, §3 Table IV,
 * §4 Fashion-MNIST).
 *
 * Only per-category values and the *printed* means are stored; the means a table shows are computed
 * from the per-category values ({@linkcode columnMean}), and a footnote says where the printed mean
 * differs ({@linkcode printedMeanNote}).
 *
 * @module
 */
import { type DatasetName, DATASETS } from "../core/datasets.ts";
import type { MetricDialectName, MetricKey } from "../core/metrics.ts";
import type { ModelName } from "../core/models.ts";

/** How far a number has been checked (docs/published-results.md, "Tags"). */
export type VerificationTag = "verified" | "secondary" | "unverified";

/** One published column (one method, one metric) of a paper table. */
export interface PublishedColumn {
  /** Stable id, e.g. `vtadl`. */
  id: string;
  /** Column header as the paper prints it. */
  label: string;
  /** The metric definition the numbers are believed to follow (`image-AUROC`, `AU-PRO@0.3`, …; `docs/metrics.md`). */
  metric: string;
  /**
   * The metric dialect the numbers were computed in (`src/core/metrics.ts`); `unknown` when the source does
   * not say enough to tell (then no difference to ours is shown).
   */
  dialect: MetricDialectName | "unknown";
  /** The metric of ours it is set against (in the same dialect only). */
  compareWith: MetricKey;
  /** Which of our models this is the published result of; only such columns get a comparison row. */
  model?: ModelName;
  /** Where the numbers come from (paper, table, repository file). */
  source: string;
  tag: VerificationTag;
  /** Value per row key; `null` = not published (shown as `—`). */
  values: Record<string, number | null>;
  /** The mean as printed in the source, if it prints one. */
  printedMean: number | null;
  /** Caveats shown as footnotes under the table. */
  caveats: string[];
  /** Caveats of single cells (row key → note), shown as footnotes and marked in the cell. */
  cellNotes?: Record<string, string>;
}

/** A published table: row order and labels, and its columns. */
export interface PublishedTable {
  /** `table2-mnist`, `table3-mvtec`, `table4-btad`, `fashion-mnist`. */
  id: string;
  title: string;
  dataset: DatasetName;
  /** Row keys in the paper's order: the dataset's categories (`src/core/datasets.ts`, with their labels). */
  rows: readonly string[];
  columns: PublishedColumn[];
  /** Notes about the whole table. */
  notes: string[];
}

function byRows(rows: readonly string[], values: (number | null)[]): Record<string, number | null> {
  if (values.length !== rows.length) {
    throw new Error(`published column has ${values.length} values for ${rows.length} rows`);
  }
  return Object.fromEntries(rows.map((r, i) => [r, values[i]]));
}

const DIGITS = DATASETS.mnist.categories;
const TABLE2_SOURCE = "VT-ADL paper, Table II (competitors 'taken from [19], [14]')";

function mnistColumn(
  id: string,
  label: string,
  values: number[],
  printedMean: number,
  caveats: string[] = [],
): PublishedColumn {
  return {
    id,
    label,
    metric: "image-AUROC",
    dialect: "official",
    compareWith: "imageAuroc",
    model: id === "vtadl" ? "vtadl" : undefined,
    source: TABLE2_SOURCE,
    tag: "verified" as const,
    values: byRows(DIGITS, values),
    printedMean,
    caveats,
  };
}

/** VT-ADL Table II: MNIST, one class normal, image ROC-AUC (docs/published-results.md §1). */
export const TABLE2_MNIST: PublishedTable = {
  id: "table2-mnist",
  title: "Table II: MNIST, one class normal (image ROC-AUC)",
  dataset: "mnist",
  rows: DIGITS,
  columns: [
    mnistColumn(
      "ocsvm",
      "OC SVM",
      [0.988, 0.999, 0.902, 0.950, 0.955, 0.968, 0.978, 0.965, 0.853, 0.995],
      0.95,
    ),
    mnistColumn("kde", "KDE", [0.885, 0.996, 0.71, 0.693, 0.844, 0.776, 0.861, 0.884, 0.669, 0.825], 0.81),
    mnistColumn("dae", "DAE", [0.991, 0.999, 0.89, 0.935, 0.921, 0.937, 0.981, 0.964, 0.841, 0.96], 0.94),
    mnistColumn("vae", "VAE", [0.994, 0.999, 0.96, 0.947, 0.965, 0.963, 0.995, 0.974, 0.905, 0.978], 0.97),
    mnistColumn(
      "pixcnn-gan",
      "Pix CNN GAN",
      [0.531, 0.995, 0.478, 0.517, 0.739, 0.542, 0.592, 0.789, 0.340, 0.662],
      0.62,
      ["Which method 'Pix CNN GAN' is should be checked against the paper's refs [19], [14] [unverified]."],
    ),
    mnistColumn("lsa", "LSA", [0.993, 0.999, 0.959, 0.966, 0.956, 0.964, 0.994, 0.980, 0.953, 0.981], 0.97),
    mnistColumn("deep-svdd", "Deep SVDD", [
      0.98,
      0.997,
      0.917,
      0.919,
      0.949,
      0.885,
      0.983,
      0.946,
      0.939,
      0.965,
    ], 0.948),
    mnistColumn(
      "pyr-ae",
      "Pyr. AE",
      [0.995, 0.999, 0.941, 0.966, 0.960, 0.972, 0.993, 0.993, 0.895, 0.989],
      0.97,
    ),
    mnistColumn(
      "vtadl",
      "VT-ADL",
      [0.99, 1, 0.976, 0.976, 0.984, 0.971, 0.995, 0.99, 0.974, 0.99],
      0.984,
      [
        "VT-ADL's MNIST image score uses only the global reconstruction losses, not the MDN (paper Sec. V.B); no public code exists for this experiment.",
      ],
    ),
  ],
  notes: [
    "Metric: image ROC-AUC. Only nine value columns are printed in the source.",
  ],
};

const MVTEC_ROWS = DATASETS.mvtec.categories;
const TABLE3_SOURCE =
  "VT-ADL paper, Table III (= image/mvtec-results.png); baselines 'taken from [8]' (Bergmann et al., CVPR 2020)";
const ZIPPER_DUPLICATE =
  "The Zipper row repeats the Carpet row for 1-NN, OC-SVM and K-Means (0.512 / 0.355 / 0.253): likely a copy error [unverified].";

function mvtecBaseline(
  id: string,
  label: string,
  values: number[],
  printedMean: number,
  options: { caveats?: string[]; zipperDuplicate?: boolean; tag?: VerificationTag } = {},
): PublishedColumn {
  return {
    id,
    label,
    metric: "AU-PRO@0.3",
    // Bergmann et al.'s PRO, integrated to 30 % FPR: the definition the official MVTec script implements.
    dialect: "official",
    compareWith: "auPro",
    // Only the plain L2 autoencoder is one of ours; their AE-SSIM is trained on SSIM alone, ours on MSE+SSIM.
    model: id === "ae-mse" ? "ae-mse" : undefined,
    source: TABLE3_SOURCE,
    tag: options.tag ?? "verified",
    values: byRows(MVTEC_ROWS, values),
    printedMean,
    caveats: options.caveats ?? [],
    cellNotes: options.zipperDuplicate ? { zipper: ZIPPER_DUPLICATE } : undefined,
  };
}

/** VT-ADL Table III: MVTec AD per category (docs/published-results.md §2). */
export const TABLE3_MVTEC: PublishedTable = {
  id: "table3-mvtec",
  title: "Table III: MVTec AD, per category (localisation)",
  dataset: "mvtec",
  rows: MVTEC_ROWS,
  columns: [
    mvtecBaseline(
      "1nn",
      "1-NN",
      [
        0.512,
        0.228,
        0.446,
        0.822,
        0.502,
        0.898,
        0.806,
        0.631,
        0.861,
        0.705,
        0.725,
        0.604,
        0.675,
        0.68,
        0.512,
      ],
      0.64,
      { zipperDuplicate: true },
    ),
    mvtecBaseline(
      "ocsvm",
      "OC SVM",
      [
        0.355,
        0.125,
        0.306,
        0.722,
        0.336,
        0.85,
        0.431,
        0.554,
        0.616,
        0.319,
        0.544,
        0.644,
        0.538,
        0.496,
        0.355,
      ],
      0.479,
      { zipperDuplicate: true },
    ),
    mvtecBaseline(
      "kmeans",
      "K Means",
      [
        0.253,
        0.107,
        0.308,
        0.779,
        0.411,
        0.495,
        0.513,
        0.387,
        0.698,
        0.351,
        0.514,
        0.55,
        0.337,
        0.399,
        0.253,
      ],
      0.423,
      { zipperDuplicate: true },
    ),
    mvtecBaseline("ae-mse", "AE MSE", [
      0.456,
      0.582,
      0.819,
      0.897,
      0.727,
      0.91,
      0.825,
      0.862,
      0.917,
      0.83,
      0.893,
      0.754,
      0.822,
      0.728,
      0.839,
    ], 0.79),
    mvtecBaseline("vae", "VAE", [
      0.501,
      0.224,
      0.635,
      0.87,
      0.628,
      0.897,
      0.654,
      0.526,
      0.878,
      0.576,
      0.769,
      0.559,
      0.693,
      0.626,
      0.549,
    ], 0.639),
    mvtecBaseline("ae-ssim", "AE SSIM", [
      0.647,
      0.849,
      0.561,
      0.175,
      0.605,
      0.834,
      0.478,
      0.86,
      0.916,
      0.603,
      0.83,
      0.887,
      0.784,
      0.725,
      0.665,
    ], 0.694),
    mvtecBaseline(
      "anogan",
      "AnoGAN",
      [
        0.204,
        0.226,
        0.378,
        0.177,
        0.386,
        0.62,
        0.383,
        0.306,
        0.698,
        0.32,
        0.776,
        0.466,
        0.749,
        0.549,
        0.467,
      ],
      0.443,
      {
        caveats: ["The AnoGAN mean is printed as 0.443, but its column averages 0.4470."],
      },
    ),
    mvtecBaseline("cnn-dict", "CNN Feat. Dic", [
      0.469,
      0.183,
      0.641,
      0.797,
      0.621,
      0.742,
      0.558,
      0.306,
      0.844,
      0.358,
      0.46,
      0.277,
      0.151,
      0.628,
      0.703,
    ], 0.515),
    mvtecBaseline(
      "uni-stud-p65",
      "Uni. Stud. (p=65)",
      [
        0.695,
        0.819,
        0.819,
        0.912,
        0.725,
        0.918,
        0.865,
        0.916,
        0.937,
        0.895,
        0.935,
        0.928,
        0.863,
        0.701,
        0.933,
      ],
      0.857,
      {
        caveats: [
          "'Uni. Stud.' is the single-scale p = 65 Student–Teacher variant (mean 0.857), not the multi-scale ensemble (mean 0.914).",
        ],
      },
    ),
    {
      id: "uni-stud-ms",
      label: "Uni. Stud. (multi-scale)",
      metric: "AU-PRO@0.3",
      dialect: "official",
      compareWith: "auPro",
      source: "Bergmann et al., CVPR 2020 (Uninformed Students), multi-scale ensemble; mean only",
      tag: "secondary",
      values: byRows(MVTEC_ROWS, MVTEC_ROWS.map(() => null)),
      printedMean: 0.914,
      caveats: [
        "Multi-scale Uninformed Students mean 0.914 [secondary: https://sotaverified.org/papers/uninformed-students-student-teacher-anomaly lists 91.4 / 90 / 85.7 for multi-scale / p=33 / p=65; the paper's Table 1 could not be read]; per-category values not transcribed.",
      ],
    },
    {
      id: "vtadl",
      label: "VT-ADL (as published, metric ambiguous)",
      metric: "pixel-AUROC/all (believed)",
      dialect: "official",
      compareWith: "vtadlCodePro",
      model: "vtadl",
      source: "VT-ADL paper, Table III",
      tag: "verified",
      values: byRows(MVTEC_ROWS, [
        0.773,
        0.871,
        0.728,
        0.796,
        0.781,
        0.949,
        0.776,
        0.672,
        0.897,
        0.726,
        0.705,
        0.928,
        0.901,
        0.796,
        0.808,
      ]),
      printedMean: 0.807,
      caveats: [
        "The paper says PRO up to 30 % FPR; the public code computes pixel ROC-AUC under that name (test.py:195, issue #7). Believed pixel-AUROC/all.",
        "Table III's VT-ADL mean (0.807) equals Sec. V.C's figure for training without noise; which configuration Table III used is not stated.",
      ],
    },
  ],
  notes: [
    "Baselines are AU-PRO@0.3 (Bergmann et al.'s PRO integrated to 30 % FPR and normalised). The printed means are truncated, not rounded.",
  ],
};

const BTAD_ROWS = DATASETS.btad.categories;
const TABLE4_SOURCE = "VT-ADL paper, Table IV (= image/btad-results.png)";

/** VT-ADL Table IV: BTAD (docs/published-results.md §3). */
export const TABLE4_BTAD: PublishedTable = {
  id: "table4-btad",
  title: "Table IV: BTAD, per product",
  dataset: "btad",
  rows: BTAD_ROWS,
  columns: [
    {
      id: "vtadl-pro",
      label: "PRO Score ours (VT-ADL)",
      metric: "pixel-AUROC/all (believed)",
      dialect: "official",
      compareWith: "vtadlCodePro",
      model: "vtadl",
      source: TABLE4_SOURCE,
      tag: "verified",
      values: byRows(BTAD_ROWS, [0.92, 0.89, 0.86]),
      printedMean: 0.89,
      caveats: [
        "Believed pixel-AUROC/all, per the code's 'PRO' (test.py:195); masks bilinearly resized and > 0 at 512².",
      ],
    },
    {
      id: "vtadl-prauc",
      label: "PR AUC ours (VT-ADL)",
      metric: "PR-AUC/trap (believed)",
      dialect: "official",
      compareWith: "prAucTrapezoid",
      model: "vtadl",
      source: TABLE4_SOURCE,
      tag: "verified",
      values: byRows(BTAD_ROWS, [0.99, 0.94, 0.77]),
      printedMean: 0.90,
      caveats: ["Believed image-level PR-AUC/trap, per the code's auc(recall, precision) (test.py); not AP."],
    },
    {
      id: "ae-mse",
      label: "AE MSE",
      metric: "PR-AUC (variant unpublished)",
      dialect: "unknown",
      compareWith: "prAucTrapezoid",
      model: "ae-mse",
      source: TABLE4_SOURCE,
      tag: "verified",
      values: byRows(BTAD_ROWS, [0.49, 0.92, 0.95]),
      printedMean: 0.78,
      caveats: [
        "AE columns are PR-AUC per the paper's caption; the AE code and exact PR-AUC variant are unpublished.",
      ],
    },
    {
      id: "ae-ssim",
      label: "AE MSE+SSIM",
      metric: "PR-AUC (variant unpublished)",
      dialect: "unknown",
      compareWith: "prAucTrapezoid",
      model: "ae-ssim",
      source: TABLE4_SOURCE,
      tag: "verified",
      values: byRows(BTAD_ROWS, [0.53, 0.96, 0.89]),
      printedMean: 0.79,
      caveats: [],
    },
  ],
  notes: [
    "The mapping of product 0/1/2 to folders 01/02/03 is assumed from order [unverified]: the paper's Sec. V.A sizes (products 1, 2, 3 = 1600², 600², 800×600) match folders 01, 02, 03, but its training counts (400, 1000, 399) swap 02 and 03, and Table IV's rows 0/1/2 are not tied to them.",
    "Later papers (e.g. FastFlow) reuse these numbers as pixel AUROC; BTAD numbers copied between papers are not comparable.",
  ],
};

/** Fashion-MNIST class names (labels 0–9). */
function fashionMean(id: string, label: string, percent: number, source: string): PublishedColumn {
  return {
    id,
    label,
    metric: "image-AUROC",
    dialect: "official",
    compareWith: "imageAuroc",
    source,
    tag: "unverified",
    values: byRows(DIGITS, DIGITS.map(() => null)),
    printedMean: Number((percent / 100).toFixed(4)),
    caveats: [],
  };
}

/** Fashion-MNIST one-class means (docs/published-results.md §4): recalled, unverified, means only. */
export const FASHION_MNIST_PUBLISHED: PublishedTable = {
  id: "fashion-mnist",
  title: "Fashion-MNIST, one class normal (image ROC-AUC), Table II layout",
  dataset: "fashion-mnist",
  rows: DATASETS["fashion-mnist"].categories,
  columns: [
    fashionMean("ocsvm", "OC-SVM", 92.8, "Golan & El-Yaniv (GEOM), NeurIPS 2018, Table 1; GOAD Table 2"),
    fashionMean("dagmm", "DAGMM", 51.8, "GEOM Table 1 / GOAD Table 2"),
    fashionMean("dsebm", "DSEBM", 86.6, "GEOM Table 1 / GOAD Table 2"),
    fashionMean("deep-svdd", "Deep SVDD", 84.8, "Bergman & Hoshen (GOAD), ICLR 2020, Table 2"),
    fashionMean("geom", "GEOM", 93.5, "GEOM Table 1"),
    fashionMean("goad", "GOAD", 94.1, "GOAD Table 2"),
    fashionMean("panda", "PANDA", 95.6, "Reiss et al., CVPR 2021, Table 1"),
  ],
  notes: [
    "[unverified] These means are recalled from the cited papers, not read from them; per-class values are not transcribed. A check against GEOM Table 1, GOAD Table 2 and PANDA Table 1 could not read those tables (only the papers' first pages were reachable), so they stay unverified; GEOM's 93.5 agrees with one secondary copy (AGAD, Table 1). Sources tried and status per value: docs/published-results.md §5.",
    "VT-ADL does not report Fashion-MNIST: any VT-ADL number here is the harness's own, with its documented MNIST configuration.",
  ],
};

/** Every published table, by dataset. */
export const PUBLISHED_TABLES: Partial<Record<DatasetName, PublishedTable>> = {
  mnist: TABLE2_MNIST,
  "fashion-mnist": FASHION_MNIST_PUBLISHED,
  mvtec: TABLE3_MVTEC,
  btad: TABLE4_BTAD,
};

/**
 * The mean of a published column over the table's rows, computed from the per-row values; null when a
 * row has no value.
 *
 * @example
 * ```ts
 * columnMean(TABLE2_MNIST, TABLE2_MNIST.columns.at(-1)!); // 0.9846
 * ```
 */
export function columnMean(table: PublishedTable, column: PublishedColumn): number | null {
  let sum = 0;
  for (const row of table.rows) {
    const v = column.values[row];
    if (v === null || v === undefined) return null;
    sum += v;
  }
  return sum / table.rows.length;
}

/** Number of decimals a printed value shows (0.984 → 3, 0.9 → 1). */
function decimalsOf(value: number): number {
  const text = String(value);
  const dot = text.indexOf(".");
  return dot < 0 ? 0 : text.length - dot - 1;
}

/**
 * A footnote when the printed mean is not the computed mean rounded to the printed precision: says
 * whether the paper truncated or the printed value is inconsistent. Null when they agree or either is
 * missing.
 */
export function printedMeanNote(table: PublishedTable, column: PublishedColumn): string | null {
  const computed = columnMean(table, column);
  const printed = column.printedMean;
  if (computed === null || printed === null) return null;
  const d = Math.max(decimalsOf(printed), 1);
  const scale = 10 ** d;
  if (Math.abs(Math.round(computed * scale) - Math.round(printed * scale)) === 0) return null;
  const truncated = Math.abs(Math.floor(computed * scale + 1e-9) - Math.round(printed * scale)) === 0;
  return `${column.label}: the source prints the mean as ${printed}; the ${table.rows.length} values average ${
    computed.toFixed(4)
  } (${truncated ? "truncated, not rounded" : "inconsistent with the column"}).`;
}
