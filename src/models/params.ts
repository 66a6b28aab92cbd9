/**
 * Parameters as data: a model's blocks declare their weights through a {@linkcode ParamScope}, which
 * yields an ordered list of {@linkcode ParamSpec} (name, shape, init, part). Parameter counts come from
 * that list without allocating anything, and {@linkcode ParamStore} creates the `tf.Variable`s with values
 * drawn in JavaScript from a seeded stream, in declaration order.
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

/** Constant 0 (biases, LayerNorm β). */
export const ZEROS: Init = { kind: "constant", value: 0 };
/** Constant 1 (LayerNorm and BatchNorm γ). */
export const ONES: Init = { kind: "constant", value: 1 };

/**
 * Declares a model's parameters where its blocks are defined: each block asks its scope for its weights
 * and keeps the returned specs, so a weight is declared and used in one place and never looked up by a
 * rebuilt name. Scopes share one ordered list (the order weights are initialised and checkpointed in);
 * names are dotted paths (`encoder.layer0.qkv.w`).
 *
 * @example
 * ```ts
 * const root = new ParamScope();
 * const w = root.scope("encoder", "encoder").param("patch.w", [48, 32], { kind: "normal", std: 0.1 });
 * root.specs; // [{ name: "encoder.patch.w", … }]
 * ```
 */
export class ParamScope {
  /** Every spec declared through this scope or any scope sharing its list, in declaration order. */
  readonly specs: ParamSpec[];
  readonly #prefix: string;
  readonly #part: string;

  /** A root scope (empty prefix), or a child sharing `specs`. */
  constructor(specs: ParamSpec[] = [], prefix = "", part = "") {
    this.specs = specs;
    this.#prefix = prefix;
    this.#part = part;
  }

  /** The scope's own name (its dotted prefix). */
  get name(): string {
    return this.#prefix;
  }

  /** A child scope `name` (dotted under this one), counted in `part` (default: this scope's part). */
  scope(name: string, part: string = this.#part): ParamScope {
    return new ParamScope(this.specs, this.#qualified(name), part);
  }

  /** Declares a trainable parameter. */
  param(name: string, shape: number[], init: Init): ParamSpec {
    return this.#push({ name: this.#qualified(name), shape, init, part: this.#part, trainable: true });
  }

  /** Declares non-trainable state (BatchNorm running statistics), not counted as a parameter. */
  state(name: string, shape: number[], value: number): ParamSpec {
    const init: Init = { kind: "constant", value };
    return this.#push({ name: this.#qualified(name), shape, init, part: this.#part, trainable: false });
  }

  #qualified(name: string): string {
    return this.#prefix === "" ? name : `${this.#prefix}.${name}`;
  }

  #push(spec: ParamSpec): ParamSpec {
    this.specs.push(spec);
    return spec;
  }
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

  /** The variable of a declared spec. */
  value(spec: ParamSpec): tf.Variable {
    return this.get(spec.name);
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
