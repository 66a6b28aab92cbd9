/**
 * Connected regions of a binary mask with 8-connectivity: what the official MVTec AD evaluation gets from
 * `scipy.ndimage.label(gt, structure=np.ones((3, 3)))`. Pixels that touch only at a corner belong to the
 * same region (scipy's *default* structure would be the 4-connected cross).
 *
 * @module
 */

/** Regions of one mask. */
export interface RegionLabels {
  /** Per pixel, row-major: 0 for background (mask value 0), else the region number 1..count. */
  labels: Int32Array;
  /** Number of regions. */
  count: number;
  /** `sizes[k]` = pixel count of region k (index 0 unused, 0). Length count + 1. */
  sizes: Float64Array;
}

/**
 * Labels the non-zero pixels of a row-major `width`×`height` mask into 8-connected regions, numbered in
 * order of their first pixel in a row-major scan (as scipy numbers them). Two-pass union-find.
 *
 * @example
 * ```ts
 * // A diagonal pair touches at a corner: one region of 2 pixels.
 * const { count, sizes } = labelRegions8(new Uint8Array([1, 0, 0, 1]), 2, 2);
 * // count === 1, sizes[1] === 2
 * ```
 */
export function labelRegions8(
  mask: Uint8Array,
  width: number,
  height: number,
  labels: Int32Array = new Int32Array(width * height),
): RegionLabels {
  const n = width * height;
  if (labels.length < n) throw new RangeError("labelRegions8: labels buffer is smaller than the mask");
  labels.fill(0, 0, n);
  // Union-find over provisional labels; the smaller label is always the root, so the final numbering
  // follows the scan order of each region's first pixel.
  let parent = new Int32Array(64);
  let next = 1;
  const find = (a: number): number => {
    let root = a;
    while (parent[root] !== root) root = parent[root];
    while (parent[a] !== root) {
      const up = parent[a];
      parent[a] = root;
      a = up;
    }
    return root;
  };
  const union = (a: number, b: number): number => {
    const ra = find(a), rb = find(b);
    if (ra < rb) parent[rb] = ra;
    else if (rb < ra) parent[ra] = rb;
    return ra < rb ? ra : rb;
  };
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      const p = row + x;
      if (mask[p] === 0) continue;
      // Neighbours already visited: west, north-west, north, north-east.
      let label = x > 0 ? labels[p - 1] : 0;
      if (y > 0) {
        const up = p - width;
        const nw = x > 0 ? labels[up - 1] : 0, north = labels[up], ne = x + 1 < width ? labels[up + 1] : 0;
        if (nw !== 0) label = label === 0 ? nw : union(label, nw);
        if (north !== 0) label = label === 0 ? north : union(label, north);
        if (ne !== 0) label = label === 0 ? ne : union(label, ne);
      }
      if (label === 0) {
        if (next === parent.length) {
          const grown = new Int32Array(parent.length * 2);
          grown.set(parent);
          parent = grown;
        }
        label = next;
        parent[next] = next;
        next++;
      }
      labels[p] = label;
    }
  }
  // Compact the provisional labels to 1..count in order of first appearance.
  const compact = new Int32Array(next);
  let count = 0;
  for (let k = 1; k < next; k++) if (find(k) === k) compact[k] = ++count;
  for (let k = 1; k < next; k++) compact[k] = compact[find(k)];
  const sizes = new Float64Array(count + 1);
  for (let p = 0; p < n; p++) {
    const l = labels[p];
    if (l !== 0) {
      const c = compact[l];
      labels[p] = c;
      sizes[c]++;
    }
  }
  return { labels, count, sizes };
}
