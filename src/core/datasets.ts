/**
 * Everything the harness knows about each dataset, in one place: its name, the config and models it runs
 * by default, where its files are and how they are named, its categories in the paper's order, how a
 * config preprocesses it, and which paper table it fills. Every other module asks {@linkcode DATASETS}
 * instead of branching on a dataset's name.
 *
 * The files themselves (URLs, sizes, hashes, expected layout and counts) are pinned in `datasets.lock.json`;
 * a test checks that the lock's folder conventions and categories agree with these. The sources of the
 * facts here are summarised in `docs/datasets.md`.
 *
 * @module
 */
import { z } from "zod";

/** The datasets the harness knows, in the order the report shows them (the paper's tables first). */
export const DATASET_NAMES = ["mnist", "fashion-mnist", "mvtec", "btad", "synthetic"] as const;

/** Validates a dataset name (zod): the CLI, the lock and the run records all parse with it. */
export const DatasetNameSchema = z.enum(DATASET_NAMES);

/** A dataset name. */
export type DatasetName = z.infer<typeof DatasetNameSchema>;

/** How masks are brought to the crop size: the code's bilinear-then-`> 0`, or nearest neighbour. */
export const MASK_RESIZES = ["bilinearAnyPositive", "nearest"] as const;
/** A mask resize mode. */
export type MaskResize = typeof MASK_RESIZES[number];

/**
 * How BTAD images reach the crop: the code's MVTec path (resize 550, crop 512) or straight to the crop
 * size, as the paper says ("scaled to 512", Sec. V.A).
 */
export const BTAD_RESIZES = ["resize550crop512", "direct512"] as const;
/** A BTAD resize mode. */
export type BtadResize = typeof BTAD_RESIZES[number];

/** The config fields that decide preprocessing (a structural subset of a model config). */
export interface PreprocessConfig {
  /** Network input side: the centre crop. */
  imageSize: number;
  /** Side images are resized to before the crop. */
  resizeTo: number;
  maskResize: MaskResize;
  btadResize: BtadResize;
}

/** What a split is resized and cropped to, and how its masks are resized. */
export interface Preprocessing {
  /** Resize to resize×resize (antialiased bilinear). */
  resize: number;
  /** Then centre crop crop×crop. */
  crop: number;
  maskResize: MaskResize;
}

/** The paper tables a dataset can fill. `null`: no published table (ours only). */
export type PaperTable = "table2" | "table3" | "table4";

/** Files laid out as `<category>/{train,test,ground_truth}/<defect>/<file>` (MVTec AD and alike). */
export interface FolderStorage {
  kind: "folders";
  /** Defect-type folder of the normal images. */
  normalFolder: string;
  /** Image file extensions, lower case with the dot. */
  imageExtensions: readonly string[];
  /** Candidate mask file names of a test image stem, tried in order. */
  maskNames(stem: string): string[];
}

/** One-class splits of IDX files (MNIST and Fashion-MNIST): category = the normal class. */
export interface IdxStorage {
  kind: "idx";
  files: {
    trainImages: string;
    trainLabels: string;
    testImages: string;
    testLabels: string;
  };
}

/** Everything the harness knows about one dataset. */
export interface DatasetSpec {
  name: DatasetName;
  /** Name as printed, e.g. `MVTec AD`. */
  label: string;
  /** Named config used when `--config` is not given. */
  defaultConfig: string;
  /** Models run when `--model` is not given: all three, or VT-ADL alone. */
  defaultModels: "all" | "vtadl";
  storage: FolderStorage | IdxStorage;
  /** Every category (MVTec category, BTAD product, normal class) in the paper's row order. */
  categories: readonly string[];
  /** Row labels as the paper prints them, where they differ from the category name. */
  categoryLabels?: Readonly<Record<string, string>>;
  /** Header of the category column in tables. */
  categoryHeader: "Category" | "Product" | "Class";
  /** Whether anomalous test images have pixel masks (pixel metrics need them). */
  hasMasks: boolean;
  /** The paper table the dataset's results fill, or null (ours only). */
  paperTable: PaperTable | null;
  /** The resize, crop and mask resize a config asks for on this dataset. */
  preprocess(config: PreprocessConfig): Preprocessing;
}

/** Resize then centre crop as the code does for MVTec (550 → 512 for `code`; mvtech.py, docs/original-code.md §9). */
function resizeThenCrop(config: PreprocessConfig): Preprocessing {
  return { resize: config.resizeTo, crop: config.imageSize, maskResize: config.maskResize };
}

const DIGITS = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"] as const;

const IDX_FILES = {
  trainImages: "train-images-idx3-ubyte",
  trainLabels: "train-labels-idx1-ubyte",
  testImages: "t10k-images-idx3-ubyte",
  testLabels: "t10k-labels-idx1-ubyte",
} as const;

const MVTEC_FOLDERS: FolderStorage = {
  kind: "folders",
  normalFolder: "good",
  imageExtensions: [".png"],
  maskNames: (stem) => [`${stem}_mask.png`, `${stem}_mask.PNG`],
};

const FASHION_MNIST_CLASSES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
];

/**
 * Every dataset's spec, by name.
 *
 * @example
 * ```ts
 * DATASETS.btad.preprocess(resolveConfig("vtadl", "paper")); // { resize: 512, crop: 512, maskResize: "nearest" }
 * ```
 */
export const DATASETS: Readonly<Record<DatasetName, DatasetSpec>> = {
  mnist: {
    name: "mnist",
    label: "MNIST",
    defaultConfig: "mnist",
    defaultModels: "vtadl",
    storage: { kind: "idx", files: IDX_FILES },
    categories: DIGITS,
    categoryHeader: "Class",
    hasMasks: false,
    paperTable: "table2",
    preprocess: resizeThenCrop,
  },
  "fashion-mnist": {
    name: "fashion-mnist",
    label: "Fashion-MNIST",
    defaultConfig: "mnist",
    defaultModels: "vtadl",
    storage: { kind: "idx", files: IDX_FILES },
    categories: DIGITS,
    categoryLabels: Object.fromEntries(DIGITS.map((d, i) => [d, `${d} ${FASHION_MNIST_CLASSES[i]}`])),
    categoryHeader: "Class",
    hasMasks: false,
    paperTable: "table2",
    preprocess: resizeThenCrop,
  },
  mvtec: {
    name: "mvtec",
    label: "MVTec AD",
    defaultConfig: "code",
    defaultModels: "vtadl",
    storage: MVTEC_FOLDERS,
    // Table III's order: textures, then objects.
    categories: [
      "carpet",
      "grid",
      "leather",
      "tile",
      "wood",
      "bottle",
      "cable",
      "capsule",
      "hazelnut",
      "metal_nut",
      "pill",
      "screw",
      "toothbrush",
      "transistor",
      "zipper",
    ],
    categoryLabels: {
      carpet: "Carpet",
      grid: "Grid",
      leather: "Leather",
      tile: "Tile",
      wood: "Wood",
      bottle: "Bottle",
      cable: "Cable",
      capsule: "Capsule",
      hazelnut: "Hazelnut",
      metal_nut: "Metal Nut",
      pill: "Pill",
      screw: "Screw",
      toothbrush: "Toothbrush",
      transistor: "Transistor",
      zipper: "Zipper",
    },
    categoryHeader: "Category",
    hasMasks: true,
    paperTable: "table3",
    preprocess: resizeThenCrop,
  },
  btad: {
    name: "btad",
    label: "BTAD",
    defaultConfig: "code",
    defaultModels: "vtadl",
    storage: {
      kind: "folders",
      normalFolder: "ok",
      imageExtensions: [".bmp", ".png"],
      // Product 03 has .bmp masks, 01 and 02 .png (docs/datasets.md §2): try both by stem.
      maskNames: (stem) => [`${stem}.png`, `${stem}.bmp`],
    },
    categories: ["01", "02", "03"],
    // Table IV numbers the products 0–2.
    categoryLabels: { "01": "0 (= 01)", "02": "1 (= 02)", "03": "2 (= 03)" },
    categoryHeader: "Product",
    hasMasks: true,
    paperTable: "table4",
    preprocess(config) {
      // paper Sec. V.A: BTAD images "scaled to 512" directly; the code reuses its MVTec resize + crop.
      return config.btadResize === "direct512"
        ? { resize: config.imageSize, crop: config.imageSize, maskResize: config.maskResize }
        : resizeThenCrop(config);
    },
  },
  synthetic: {
    name: "synthetic",
    label: "synthetic",
    defaultConfig: "smoke",
    // The offline default compares VT-ADL with both baselines in a few minutes.
    defaultModels: "all",
    storage: MVTEC_FOLDERS,
    categories: ["disc", "lattice", "weave"],
    categoryHeader: "Category",
    hasMasks: true,
    paperTable: null,
    preprocess: resizeThenCrop,
  },
};

/**
 * The spec of `name`, or an error listing the known datasets.
 *
 * @example
 * ```ts
 * datasetSpec("mvtec").categories.length; // 15
 * ```
 */
export function datasetSpec(name: string): DatasetSpec {
  const parsed = DatasetNameSchema.safeParse(name);
  if (!parsed.success) {
    throw new Error(`unknown dataset '${name}': expected one of ${DATASET_NAMES.join(", ")}`);
  }
  return DATASETS[parsed.data];
}

/** The label a table prints for a category (the paper's, else the category name). */
export function categoryLabel(dataset: DatasetName, category: string): string {
  return DATASETS[dataset].categoryLabels?.[category] ?? category;
}

/**
 * The folder conventions of every folder-stored dataset at once (MVTec AD, BTAD, synthetic): the names of
 * normal-image folders, and a test image's candidate mask names. `evaluate` accepts any of them.
 *
 * @example
 * ```ts
 * folderConventions().maskNames("000"); // ["000_mask.png", "000_mask.PNG", "000.png", "000.bmp"]
 * ```
 */
export function folderConventions(): { normalFolders: string[]; maskNames(stem: string): string[] } {
  const folders = DATASET_NAMES.map((d) => DATASETS[d].storage).filter((s): s is FolderStorage =>
    s.kind === "folders"
  );
  return {
    normalFolders: [...new Set(folders.map((s) => s.normalFolder))],
    maskNames: (stem) => [...new Set(folders.flatMap((s) => s.maskNames(stem)))],
  };
}
