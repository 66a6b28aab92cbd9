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
  /**
   * `auto` (default): one fused pass per parameter on host-memory backends (cpu, onnxruntime), tensor ops
   * elsewhere; `tensorOps`: always tensor ops. Both give the same bits on cpu.
   */
  implementation?: "auto" | "tensorOps";
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
    this.step += 1;
    const host = this.options.implementation === "tensorOps" ? null : hostArrays();
    if (host) this.#applyFused(grads, host);
    else this.#applyOps(grads);
  }

  /** Bias-corrected coefficients of the current step (float64, from the integer step as PyTorch). */
  #coefficients() {
    const { learningRate, beta1, beta2 } = this.options;
    return {
      stepSize: learningRate / (1 - beta1 ** this.step),
      sqrtBc2: Math.sqrt(1 - beta2 ** this.step),
    };
  }

  /** The update as tfjs ops (GPU backends). */
  #applyOps(grads: tf.Tensor[]): void {
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const { stepSize, sqrtBc2 } = this.#coefficients();
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

  /**
   * The same update in one pass per parameter over the host arrays (cpu-resident backends), instead of
   * ~15 full-size tensor ops. Every intermediate is rounded to float32 exactly where {@linkcode
   * Adam.#applyOps} stores one (tfjs-cpu computes each op in float64 and stores float32; scalars become
   * float32 tensors), so both paths give bit-identical weights on the cpu backend.
   */
  #applyFused(grads: tf.Tensor[], host: HostArrays): void {
    const f = Math.fround;
    const { beta1, beta2, epsilon, weightDecay } = this.options;
    const { stepSize, sqrtBc2 } = this.#coefficients();
    const c: AdamCoefficients = {
      beta1: f(beta1),
      oneMinusBeta1: f(1 - beta1),
      beta2: f(beta2),
      oneMinusBeta2: f(1 - beta2),
      weightDecay: f(weightDecay),
      epsilon: f(epsilon),
      stepSize: f(stepSize),
      sqrtBiasCorrection2: f(sqrtBc2),
    };
    this.params.forEach((param, i) => {
      const n = grads[i].size;
      const accVar = this.#acc[i];
      // Update in place where the backend confirms the variable is the array's only holder (no copy of
      // 3–4 × the parameter count per step); otherwise copy first.
      const own = (t: tf.Variable) => {
        const exclusive = host.exclusive(t);
        if (exclusive) return exclusive;
        const copy = host.allocate(n);
        copy.set(host.read(t));
        assignArray(t, copy, t.shape);
        return copy;
      };
      const arrays = {
        param: own(param.variable),
        grad: host.read(grads[i]),
        m: own(this.#m[i]),
        v: own(this.#v[i]),
        accumulator: accVar ? own(accVar) : null,
      };
      (host.adamStep ?? fusedAdamStep)(arrays, c);
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

/** Direct access to the float32 arrays of a backend that keeps tensors in host memory. */
interface HostArrays {
  read(t: tf.Tensor): Float32Array;
  /** The backend's own vectorised in-place update, when it has one (bit-identical to fusedAdamStep). */
  adamStep?: (arrays: AdamArrays, c: AdamCoefficients) => void;
  allocate(length: number): Float32Array;
  /** The tensor's own array when it may be updated in place, else null. */
  exclusive(t: tf.Tensor): Float32Array | null;
}

/** A backend that stores tensor data as host arrays (tfjs-backend-cpu and the backends built on it). */
interface HostBackend {
  data: { get(dataId: unknown): { values: unknown } };
  /** Recycled output arrays (the `onnxruntime` engine); plain allocation otherwise. */
  allocateFloat32?(length: number): Float32Array;
  /** The onnxruntime engine: a tensor's array when nothing else can see it (see native_backend.ts). */
  exclusiveFloat32?(t: tf.Tensor): Float32Array | null;
  adamStep?(arrays: AdamArrays, c: AdamCoefficients): void;
}

/** Host-array access for the current backend, or null when tensors live on a device (webgpu, tensorflow). */
function hostArrays(): HostArrays | null {
  const name = tf.getBackend();
  if (name !== "cpu" && name !== "onnxruntime") return null;
  const backend = tf.backend() as unknown as HostBackend;
  return {
    read(t) {
      const values = backend.data.get(t.dataId).values;
      // A float32 tensor cast from bool/int32 keeps its Uint8Array/Int32Array values on tfjs-cpu.
      return values instanceof Float32Array ? values : Float32Array.from(values as Int32Array);
    },
    allocate: (length) => backend.allocateFloat32?.(length) ?? new Float32Array(length),
    exclusive: (t) => backend.exclusiveFloat32?.(t) ?? null,
    adamStep: backend.adamStep?.bind(backend),
  };
}

/** Makes `array` the variable's value (the array becomes the tensor's storage, no copy). */
function assignArray(variable: tf.Variable, array: Float32Array, shape: number[]): void {
  const t = tf.tensor(array, shape, "float32");
  variable.assign(t);
  t.dispose();
}

/** Float32 coefficients of one step (each rounded as tfjs rounds a scalar operand). */
export interface AdamCoefficients {
  beta1: number;
  oneMinusBeta1: number;
  beta2: number;
  oneMinusBeta2: number;
  weightDecay: number;
  epsilon: number;
  stepSize: number;
  sqrtBiasCorrection2: number;
}

/** One parameter's arrays, updated in place. `accumulator` when its gradients are summed across steps. */
export interface AdamArrays {
  param: Float32Array;
  grad: Float32Array;
  m: Float32Array;
  v: Float32Array;
  accumulator: Float32Array | null;
}

/**
 * One Adam step in one JavaScript pass, in place. Every intermediate is rounded to float32 exactly where
 * the tensor-op version stores one (tfjs-cpu computes each op in float64 and stores float32), so both
 * give the same bits.
 */
function fusedAdamStep(a: AdamArrays, c: AdamCoefficients): void {
  const f = Math.fround;
  const { param: p, grad: g, m, v, accumulator: acc } = a;
  const { beta1, oneMinusBeta1, beta2, oneMinusBeta2, weightDecay, epsilon, stepSize } = c;
  const bc2 = c.sqrtBiasCorrection2;
  for (let j = 0; j < p.length; j++) {
    let gj = g[j];
    if (acc) gj = acc[j] = f(acc[j] + gj);
    if (weightDecay !== 0) gj = f(gj + f(p[j] * weightDecay));
    const mj = m[j] = f(f(m[j] * beta1) + f(gj * oneMinusBeta1));
    const vj = v[j] = f(f(v[j] * beta2) + f(f(gj * gj) * oneMinusBeta2));
    const denom = f(f(f(Math.sqrt(vj)) / bc2) + epsilon);
    p[j] = f(p[j] - f(f(mj / denom) * stepSize));
  }
}
