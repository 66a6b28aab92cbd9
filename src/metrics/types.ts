/**
 * Shared input types of the metric engine: row-major anomaly maps and ground-truth masks.
 *
 * @module
 */

/** A row-major 2-D anomaly map: higher score = more anomalous. `data.length === width * height`. */
export interface ScoreMap {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** Scores, row-major. Float32 maps are evaluated at float32 (the official MVTec TIFF format). */
  data: Float32Array | Float64Array;
}

/** A row-major 2-D ground-truth mask: any non-zero value is defect (so 0/1 and 0/255 masks both work). */
export interface MaskMap {
  /** Columns. */
  width: number;
  /** Rows. */
  height: number;
  /** Mask values, row-major. */
  data: Uint8Array;
}
