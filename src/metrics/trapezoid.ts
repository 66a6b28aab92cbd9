/**
 * Summation and trapezoid integration exactly as the reference Python code evaluates them, so that results
 * agree to the last bit where the inputs do:
 * - {@linkcode pairwiseSum} is NumPy's `np.sum` of a contiguous float64 vector (pairwise summation with
 *   8-way unrolled blocks of ≤ 128 elements, `numpy/_core/src/umath/loops_utils.h.src`).
 * - {@linkcode trapezoidToLimit} is `trapezoid(x, y, x_max)` of the official MVTec AD evaluation
 *   (`generic_util.py`), used for AU-PRO.
 *
 * @module
 */

/**
 * Sums `term(start) … term(start + n - 1)` in NumPy's pairwise order. Terms are produced in index order, so
 * they need not be stored.
 *
 * @example
 * ```ts
 * const values = [0.1, 0.2, 0.3];
 * pairwiseSum(values.length, (i) => values[i]); // same bits as np.sum(np.array(values))
 * ```
 */
export function pairwiseSum(n: number, term: (i: number) => number, start = 0): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += term(start + i);
    return res;
  }
  if (n <= 128) {
    let r0 = term(start), r1 = term(start + 1), r2 = term(start + 2), r3 = term(start + 3);
    let r4 = term(start + 4), r5 = term(start + 5), r6 = term(start + 6), r7 = term(start + 7);
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      const a = start + i;
      r0 += term(a);
      r1 += term(a + 1);
      r2 += term(a + 2);
      r3 += term(a + 3);
      r4 += term(a + 4);
      r5 += term(a + 5);
      r6 += term(a + 6);
      r7 += term(a + 7);
    }
    let res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7));
    for (; i < n; i++) res += term(start + i);
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return pairwiseSum(n2, term, start) + pairwiseSum(n - n2, term, start + n2);
}

/** Result of {@linkcode trapezoidToLimit}. */
export interface TrapezoidResult {
  /** Area under the piecewise-linear curve from x[0] to the limit. */
  area: number;
  /** Number of points dropped because x or y was not finite (the official code warns about them). */
  droppedNonFinite: number;
}

/**
 * The official MVTec AD `trapezoid(x, y, x_max)`: drop non-finite points, and if `xMax` is not one of the
 * x values, add the trapezoid from the last point ≤ xMax to the curve linearly interpolated at xMax
 * (`ins = bisect_right(x, x_max)`, asserting `0 < ins < len(x)`), plus the trapezoids of all points with
 * x ≤ xMax. `x` must be non-decreasing. Only the first `n` points are read.
 */
export function trapezoidToLimit(
  x: Float64Array,
  y: Float64Array,
  n: number,
  xMax: number,
): TrapezoidResult {
  let fx = x, fy = y, m = n;
  let dropped = 0;
  for (let i = 0; i < n; i++) if (!Number.isFinite(x[i]) || !Number.isFinite(y[i])) dropped++;
  if (dropped > 0) {
    fx = new Float64Array(n - dropped);
    fy = new Float64Array(n - dropped);
    m = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isFinite(x[i]) && Number.isFinite(y[i])) {
        fx[m] = x[i];
        fy[m] = y[i];
        m++;
      }
    }
  }
  // bisect_right: first index whose x is > xMax; also detects `x_max in x`.
  let ins = 0;
  let contains = false;
  while (ins < m && fx[ins] <= xMax) {
    if (fx[ins] === xMax) contains = true;
    ins++;
  }
  let correction = 0;
  if (!contains) {
    if (!(ins > 0 && ins < m)) {
      throw new RangeError(
        `trapezoid: limit ${xMax} lies outside the curve's x range [${fx[0]}, ${fx[m - 1]}]`,
      );
    }
    const x0 = fx[ins - 1], y0 = fy[ins - 1];
    const yInterp = y0 + ((fy[ins] - y0) * (xMax - x0) / (fx[ins] - x0));
    correction = 0.5 * (yInterp + y0) * (xMax - x0);
  }
  // Points with x <= xMax are exactly the prefix [0, ins) because x is non-decreasing.
  const sum = pairwiseSum(ins - 1 > 0 ? ins - 1 : 0, (i) => 0.5 * (fy[i + 1] + fy[i]) * (fx[i + 1] - fx[i]));
  return { area: sum + correction, droppedNonFinite: dropped };
}

/**
 * {@linkcode pairwiseSum} for terms that arrive one at a time, when their number `n` is known in advance:
 * the leaves of NumPy's pairwise tree (blocks of ≤ 128 terms) are summed as the terms stream in, and the
 * leaf sums are combined along the same tree at the end. Memory: one number per leaf (~n/64).
 */
export class PairwiseStream {
  readonly #leaves: number[] = [];
  readonly #leafSums: number[] = [];
  readonly #n: number;
  #leaf = 0;
  #pos = 0;
  #acc = [0, 0, 0, 0, 0, 0, 0, 0];
  #res = 0;
  #added = 0;

  /** Prepares for exactly `n` terms. */
  constructor(n: number) {
    this.#n = n;
    const split = (m: number): void => {
      if (m <= 128) {
        this.#leaves.push(m);
        return;
      }
      let m2 = Math.floor(m / 2);
      m2 -= m2 % 8;
      split(m2);
      split(m - m2);
    };
    if (n > 0) split(n);
  }

  /** Adds the next term. */
  add(term: number): void {
    const len = this.#leaves[this.#leaf];
    const k = this.#pos++;
    if (len < 8) this.#res += term;
    else if (k < 8) this.#acc[k] = term;
    else if (k < len - (len % 8)) this.#acc[k % 8] += term;
    else {
      if (k === len - (len % 8)) this.#res = this.#combine();
      this.#res += term;
    }
    if (this.#pos === len) {
      if (len >= 8 && len % 8 === 0) this.#res = this.#combine();
      this.#leafSums.push(this.#res);
      this.#res = 0;
      this.#pos = 0;
      this.#leaf++;
    }
    this.#added++;
  }

  #combine(): number {
    const r = this.#acc;
    return ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
  }

  /** The pairwise sum of all `n` terms (throws if fewer or more were added). */
  sum(): number {
    if (this.#added !== this.#n) {
      throw new Error(`PairwiseStream: expected ${this.#n} terms, got ${this.#added}`);
    }
    let next = 0;
    const combine = (m: number): number => {
      if (m <= 128) return this.#leafSums[next++];
      let m2 = Math.floor(m / 2);
      m2 -= m2 % 8;
      const left = combine(m2);
      return left + combine(m - m2);
    };
    return this.#n > 0 ? combine(this.#n) : 0;
  }
}
