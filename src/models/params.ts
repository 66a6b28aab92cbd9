/**
 * Parameters as data: a model is first described by a list of {@linkcode ParamSpec} (name, shape, init,
 * part), from which parameter counts are computed without allocating anything, and from which
 * {@linkcode ParamStore} creates the `tf.Variable`s with values drawn in JavaScript from a seeded stream.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";
import type { RandomStream } from "../util/rng.ts";

/** How a parameter is initialised. */
export type Init =
  | { kind: "normal"; std: number }
  | { kind: "uniform"; bound: number }
  | { kind: "constant"; value: number };

/** One parameter (or non-trainable state tensor) of a model. */
export interface ParamSpec {
  /** Logical name, unique within the model, e.g. `encoder.layer0.qkv.w`. */
  name: string;
  shape: number[];
  init: Init;
  /** Model part for parameter counts: `encoder`, `projection`, `decoder`, `mdn`. */
  part: string;
  /** false for state that the optimiser does not update (BatchNorm running statistics). */
  trainable: boolean;
}

/** A trainable parameter spec. */
export function param(name: string, shape: number[], init: Init, part: string): ParamSpec {
  return { name, shape, init, part, trainable: true };
}

/** A non-trainable state spec (not counted as a parameter). */
export function stateTensor(name: string, shape: number[], value: number, part: string): ParamSpec {
  return { name, shape, init: { kind: "constant", value }, part, trainable: false };
}

/** Number of elements of a shape. */
export function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Trainable parameter count per part (and `total`), from specs only. */
export function countByPart(specs: ParamSpec[], parts: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const part of parts) counts[part] = 0;
  let total = 0;
  for (const spec of specs) {
    if (!spec.trainable) continue;
    const n = sizeOf(spec.shape);
    counts[spec.part] = (counts[spec.part] ?? 0) + n;
    total += n;
  }
  counts.total = total;
  return counts;
}

function initialValues(spec: ParamSpec, rng: RandomStream): Float32Array {
  const n = sizeOf(spec.shape);
  switch (spec.init.kind) {
    case "normal":
      return rng.normalArray(n, spec.init.std);
    case "uniform":
      return rng.uniformArray(n, -spec.init.bound, spec.init.bound);
    case "constant":
      return new Float32Array(n).fill(spec.init.value);
  }
}

let storeCounter = 0;

/**
 * The variables of one model, keyed by logical name, in spec order. tfjs variable names must be unique
 * per process, so each store prefixes its own id.
 */
export class ParamStore {
  readonly specs: ParamSpec[];
  readonly #vars = new Map<string, tf.Variable>();

  /**
   * Creates every variable of `specs`, drawing initial values from `rng` in spec order.
   *
   * @example
   * ```ts
   * const store = new ParamStore([param("w", [2, 2], { kind: "normal", std: 1 }, "encoder")], rng);
   * ```
   */
  constructor(specs: ParamSpec[], rng: RandomStream) {
    this.specs = specs;
    const prefix = `m${storeCounter++}`;
    for (const spec of specs) {
      if (this.#vars.has(spec.name)) throw new Error(`duplicate parameter name ${spec.name}`);
      const values = initialValues(spec, rng);
      const variable = tf.tidy(() =>
        tf.variable(tf.tensor(values, spec.shape, "float32"), spec.trainable, `${prefix}/${spec.name}`)
      );
      this.#vars.set(spec.name, variable);
    }
  }

  /** The variable named `name`; throws if absent. */
  get(name: string): tf.Variable {
    const v = this.#vars.get(name);
    if (!v) throw new Error(`no parameter named ${name}`);
    return v;
  }

  /** Trainable specs, in the stable order used by the optimiser and checkpoints. */
  trainableSpecs(): ParamSpec[] {
    return this.specs.filter((s) => s.trainable);
  }

  /** Every variable (trainable and state), in spec order. */
  entries(): [ParamSpec, tf.Variable][] {
    return this.specs.map((s) => [s, this.get(s.name)]);
  }

  /** Disposes every variable. */
  dispose(): void {
    for (const v of this.#vars.values()) v.dispose();
    this.#vars.clear();
  }
}
