/**
 * Pixel anomaly maps from VT-ADL's per-patch scores, as the original `test.py` builds them
 * (`docs/original-code.md` §7): the patch-NLL grid in raster order, bilinear upsampling with
 * `align_corners=True` (`nn.UpsamplingBilinear2d`) to the evaluation size, then
 * `scipy.ndimage.gaussian_filter(σ=4)` with mode `reflect` and `truncate=4` (utility_fun.py:24-43).
 *
 * Everything works on row-major typed arrays; no tensors.
 *
 * @module
 */

/** Options of {@linkcode gaussianFilter2d}. */
export interface GaussianFilterOptions {
  /** Kernel half-width in standard deviations (scipy's `truncate`). Default 4. */
  truncate?: number;
}

/**
 * The normalised 1-D Gaussian kernel scipy uses: radius `floor(truncate·σ + 0.5)`, weights
 * `exp(−x²/(2σ²))` for x = −radius..radius, divided by their sum (`scipy.ndimage._gaussian_kernel1d`).
 *
 * @example
 * ```ts
 * gaussianKernel1d(4).length; // 33 (radius 16)
 * ```
 */
export function gaussianKernel1d(sigma: number, { truncate = 4 }: GaussianFilterOptions = {}): Float64Array {
  if (!(sigma > 0) || !Number.isFinite(sigma)) {
    throw new RangeError(`gaussian sigma must be a finite number > 0, got ${sigma}`);
  }
  const radius = Math.floor(truncate * sigma + 0.5);
  const kernel = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let x = -radius; x <= radius; x++) {
    const w = Math.exp(-0.5 * (x * x) / (sigma * sigma));
    kernel[x + radius] = w;
    sum += w;
  }
  for (let i = 0; i < kernel.length; i++) kernel[i] /= sum;
  return kernel;
}

/**
 * Maps an out-of-range index into `[0, n)` the way scipy's mode `reflect` does: half-sample symmetric
 * (`d c b a | a b c d | d c b a`), repeating with period 2n when the kernel is wider than the signal.
 */
export function reflectIndex(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Correlates every line of length `n` (stride `step`, lines starting at `starts`) with `kernel`. */
function filterLines(
  src: Float64Array,
  dst: Float64Array,
  kernel: Float64Array,
  n: number,
  step: number,
  lineStarts: number[],
): void {
  const radius = (kernel.length - 1) / 2;
  const line = new Float64Array(n + 2 * radius);
  for (const start of lineStarts) {
    for (let k = 0; k < line.length; k++) line[k] = src[start + reflectIndex(k - radius, n) * step];
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let k = 0; k < kernel.length; k++) acc += kernel[k] * line[i + k];
      dst[start + i * step] = acc;
    }
  }
}

/**
 * Separable 2-D Gaussian filter with scipy `gaussian_filter` semantics (mode `reflect`, `truncate` 4,
 * normalised kernel): rows axis first, then columns, as scipy walks axes in order. `sigma = 0` returns a
 * copy (no filtering).
 *
 * @example
 * ```ts
 * const smoothed = gaussianFilter2d(new Float64Array(64 * 64), 64, 64, 4);
 * ```
 */
export function gaussianFilter2d(
  data: ArrayLike<number>,
  width: number,
  height: number,
  sigma: number,
  options: GaussianFilterOptions = {},
): Float64Array {
  if (data.length !== width * height) {
    throw new RangeError(`gaussianFilter2d: data has ${data.length} values, expected ${width}×${height}`);
  }
  const input = Float64Array.from(data);
  if (sigma === 0) return input;
  const kernel = gaussianKernel1d(sigma, options);
  const columnStarts = Array.from({ length: width }, (_, x) => x);
  const rowStarts = Array.from({ length: height }, (_, y) => y * width);
  const vertical = new Float64Array(input.length);
  filterLines(input, vertical, kernel, height, width, columnStarts); // axis 0 (down the columns)
  const out = new Float64Array(input.length);
  filterLines(vertical, out, kernel, width, 1, rowStarts); // axis 1 (along the rows)
  return out;
}

/**
 * Bilinear resize with `align_corners=True` (PyTorch `nn.UpsamplingBilinear2d`): output pixel (y, x)
 * samples the source at (y·(h−1)/(H−1), x·(w−1)/(W−1)), so the four corners equal the corner inputs.
 *
 * @example
 * ```ts
 * resizeBilinearAlignCorners(Float64Array.of(0, 1, 2, 3), 2, 2, 3, 3); // centre = 1.5
 * ```
 */
export function resizeBilinearAlignCorners(
  data: ArrayLike<number>,
  width: number,
  height: number,
  outWidth: number,
  outHeight: number,
): Float64Array {
  if (data.length !== width * height) {
    throw new RangeError(
      `resizeBilinearAlignCorners: data has ${data.length} values, expected ${width}×${height}`,
    );
  }
  const out = new Float64Array(outWidth * outHeight);
  const scaleY = outHeight > 1 ? (height - 1) / (outHeight - 1) : 0;
  const scaleX = outWidth > 1 ? (width - 1) / (outWidth - 1) : 0;
  for (let y = 0; y < outHeight; y++) {
    const sy = y * scaleY;
    const y0 = Math.min(Math.floor(sy), height - 1);
    const y1 = Math.min(y0 + 1, height - 1);
    const fy = sy - y0;
    for (let x = 0; x < outWidth; x++) {
      const sx = x * scaleX;
      const x0 = Math.min(Math.floor(sx), width - 1);
      const x1 = Math.min(x0 + 1, width - 1);
      const fx = sx - x0;
      const top = (1 - fx) * data[y0 * width + x0] + fx * data[y0 * width + x1];
      const bottom = (1 - fx) * data[y1 * width + x0] + fx * data[y1 * width + x1];
      out[y * outWidth + x] = (1 - fy) * top + fy * bottom;
    }
  }
  return out;
}

/** Options of {@linkcode patchHeatmap}. */
export interface PatchHeatmapOptions {
  /** Gaussian σ in output pixels after upsampling; 0 = none (the `paper` variant). Default 4 (the code). */
  sigma?: number;
  /** Gaussian truncation in σ. Default 4 (scipy). */
  truncate?: number;
}

/**
 * VT-ADL's pixel anomaly map: the `gridSize`×`gridSize` patch scores (row-major, patch `gridSize−1` is
 * top-right) upsampled with aligned corners to `width`×`height`, then Gaussian-filtered. Returned as
 * float32, the dtype the original evaluates (it matters for which pixel scores tie).
 *
 * @example
 * ```ts
 * const map = patchHeatmap(raw.patchNll!, raw.gridSize, 512, 512); // σ = 4
 * ```
 */
export function patchHeatmap(
  patchScores: ArrayLike<number>,
  gridSize: number,
  width: number,
  height: number,
  { sigma = 4, truncate = 4 }: PatchHeatmapOptions = {},
): Float32Array {
  if (gridSize < 1 || patchScores.length !== gridSize * gridSize) {
    throw new RangeError(
      `patchHeatmap: ${patchScores.length} patch scores do not form a ${gridSize}×${gridSize} grid`,
    );
  }
  const upsampled = resizeBilinearAlignCorners(patchScores, gridSize, gridSize, width, height);
  return Float32Array.from(gaussianFilter2d(upsampled, width, height, sigma, { truncate }));
}
