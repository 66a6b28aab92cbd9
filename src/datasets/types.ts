/**
 * The data types that flow from the data layer to training and evaluation.
 *
 * @module
 */

/** One image of a split, decoded and preprocessed. */
export interface ImageSample {
  /** Path relative to the dataset root, with `/` separators (e.g. `bottle/test/broken_large/000.png`). */
  path: string;
  /** 0 = normal, 1 = anomalous. */
  label: 0 | 1;
  /** Defect folder name; `good` (MVTec), `ok` (BTAD) or the class name for normal images. */
  defectType: string;
  /** Width and height in pixels after preprocessing. */
  width: number;
  height: number;
  /** Always 3 after preprocessing (grey images are replicated, as the original code does). */
  channels: 3;
  /** Row-major HWC pixels, 0..255. */
  pixels: Uint8Array;
  /** Row-major H×W mask, 1 = defect pixel, at the same size; `null` for normal images (all zero). */
  mask: Uint8Array | null;
  /** The mask file, relative to the dataset root like `path`; `null` when there is none. */
  maskPath: string | null;
}

/** The train and test split of one category (MVTec category, BTAD product or MNIST class). */
export interface CategorySplit {
  dataset: string;
  category: string;
  /** Normal training images only. */
  train: ImageSample[];
  /** Normal and anomalous test images, sorted by path. */
  test: ImageSample[];
}
