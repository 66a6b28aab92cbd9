/**
 * Adam exactly as PyTorch's `torch.optim.Adam(params, lr, betas, eps, weight_decay)` steps it (coupled L2
 * decay, the original's optimiser: train.py:52), plus the original's MDN gradient accumulator.
 *
 * Why not `tf.train.adam`: it has no weight decay, puts ε inside the bias correction differently, and its
 * `setWeights` recomputes β^t with `pow` instead of restoring the running product, so a resumed run would
 * not be bit-identical to an uninterrupted one. Here the bias corrections are computed in float64 from the
 * integer step count, as PyTorch does, and the whole state is plain tensors plus one integer.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** Adam hyper-parameters. */
export interface AdamOptions {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  /** Coupled L2: g ← g + weightDecay·θ before the moment updates. */
  weightDecay: number;
}

/** A parameter the optimiser updates. */
export interface OptimisedParam {
  name: string;
  variable: tf.Variable;
  /**
   * true: the raw gradient is added to a running sum that is never reset and the step uses the sum
   * (train.py never zeroes the MDN's gradients: docs/original-code.md §6, `mdnGradAccumulate`).
   */
  accumulate: boolean;
}

/** Adam with coupled weight decay and optional never-zeroed gradient accumulators. */
export class Adam {
  readonly options: AdamOptions;
  readonly params: OptimisedParam[];
  /** Number of steps taken. */
  step = 0;
  readonly #m: tf.Variable[];
  readonly #v: tf.Variable[];
  readonly #acc: (tf.Variable | null)[];

  /**
   * Creates zeroed moment (and accumulator) variables for `params`.
   *
   * @example
   * ```ts
   * const adam = new Adam(params, { learningRate: 1e-4, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, weightDecay: 1e-4 });
   * ```
   */
  constructor(params: OptimisedParam[], options: AdamOptions) {
    this.options = options;
    this.params = params;
    const zeros = (v: tf.Variable) => tf.tidy(() => tf.variable(tf.zerosLike(v), false));
    this.#m = params.map((p) => zeros(p.variable));
    this.#v = params.map((p) => zeros(p.variable));
    this.#acc = params.map((p) => p.accumulate ? zeros(p.variable) : null);
  }

  /**
   * One step: for each parameter (PyTorch's single-tensor Adam)
   * g ← (acc ? acc += g : g) + wd·θ; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
   * θ ← θ − (lr / (1 − β1^t)) · m / (√v / √(1 − β2^t) + ε).
   * `grads[i]` belongs to `params[i]`; the caller disposes the gradients.
   */
  apply(grads: tf.Tensor[]): void {
    const { learningRate, beta1, beta2, epsilon, weightDecay } = this.options;
    this.step += 1;
    const stepSize = learningRate / (1 - beta1 ** this.step);
    const sqrtBc2 = Math.sqrt(1 - beta2 ** this.step);
    tf.tidy(() => {
      this.params.forEach((p, i) => {
        let g = grads[i];
        const acc = this.#acc[i];
        if (acc) {
          acc.assign(tf.add(acc, g));
          g = acc;
        }
        if (weightDecay !== 0) g = tf.add(g, tf.mul(p.variable, weightDecay));
        const m = tf.add(tf.mul(this.#m[i], beta1), tf.mul(g, 1 - beta1));
        const v = tf.add(tf.mul(this.#v[i], beta2), tf.mul(tf.square(g), 1 - beta2));
        this.#m[i].assign(m);
        this.#v[i].assign(v);
        const denom = tf.add(tf.div(tf.sqrt(v), sqrtBc2), epsilon);
        p.variable.assign(tf.sub(p.variable, tf.mul(tf.div(m, denom), stepSize)));
      });
    });
  }

  /** Named state tensors for checkpoints: `<name>/m`, `<name>/v`, `<name>/acc`. */
  stateTensors(): { name: string; tensor: tf.Variable }[] {
    const out: { name: string; tensor: tf.Variable }[] = [];
    this.params.forEach((p, i) => {
      out.push({ name: `${p.name}/m`, tensor: this.#m[i] }, { name: `${p.name}/v`, tensor: this.#v[i] });
      const acc = this.#acc[i];
      if (acc) out.push({ name: `${p.name}/acc`, tensor: acc });
    });
    return out;
  }

  /** Disposes the optimiser's own variables (not the parameters). */
  dispose(): void {
    for (const t of [...this.#m, ...this.#v]) t.dispose();
    for (const t of this.#acc) t?.dispose();
  }
}
