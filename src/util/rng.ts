/**
 * Seeded random streams. One integer seed derives an independent xoroshiro128+ stream (pure-rand) per
 * purpose (weight init, shuffling, training noise), so adding draws to one stream never shifts another.
 * Every value is generated in JavaScript (float64 arithmetic, then rounded to float32), so weights and
 * noise are the same on every tfjs backend.
 *
 * @module
 */
import { xoroshiro128plus, xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";

/** What a stream is used for; each name gives an independent stream of the same seed. */
export type StreamName = "init" | "shuffle" | "noise";

const STREAM_IDS: Record<StreamName, number> = { init: 1, shuffle: 2, noise: 3 };

/** splitmix32 step: a well-mixed 32-bit value from a 32-bit input (seed expansion). */
function splitmix32(x: number): number {
  let z = (x + 0x9e3779b9) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) | 0;
}

/** A seeded random stream with a serialisable state. */
export class RandomStream {
  #rng: ReturnType<typeof xoroshiro128plus>;
  #spare: number | null = null;

  private constructor(rng: ReturnType<typeof xoroshiro128plus>, spare: number | null) {
    this.#rng = rng;
    this.#spare = spare;
  }

  /**
   * The stream `name` of `seed`. The 128-bit state is expanded from (seed, stream id) with splitmix32,
   * because xoroshiro seeded with a small integer starts with poorly mixed outputs.
   *
   * @example
   * ```ts
   * const init = RandomStream.derive(42, "init");
   * const w = init.normalArray(10, 0.02);
   * ```
   */
  static derive(seed: number, name: StreamName): RandomStream {
    if (!Number.isSafeInteger(seed)) throw new Error(`seed ${seed}: expected an integer`);
    let x = splitmix32((seed | 0) ^ Math.imul(STREAM_IDS[name], 0x632be5ab));
    x ^= Math.floor(seed / 2 ** 32) | 0;
    const state: number[] = [0, 0, 0, 0];
    for (let i = 0; i < 4; i++) {
      x = splitmix32(x + i);
      state[i] = x;
    }
    if (!state.some((s) => s !== 0)) state[0] = 1;
    return new RandomStream(xoroshiro128plusFromState(state), null);
  }

  /** Restores a stream from {@linkcode RandomStream.state}. */
  static fromState(state: { rng: number[]; spare: number | null }): RandomStream {
    return new RandomStream(xoroshiro128plusFromState(state.rng), state.spare);
  }

  /** The stream's full state (JSON-serialisable), for checkpoints. */
  state(): { rng: number[]; spare: number | null } {
    return { rng: [...this.#rng.getState()], spare: this.#spare };
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    return uniformFloat64(this.#rng);
  }

  /** Standard normal, Box-Muller (both values of a pair are used). */
  normal(): number {
    if (this.#spare !== null) {
      const spare = this.#spare;
      this.#spare = null;
      return spare;
    }
    const u1 = 1 - this.uniform(); // (0, 1]: log is finite
    const u2 = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u1));
    this.#spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }

  /** `n` values from N(mean, std²) as float32. */
  normalArray(n: number, std: number, mean = 0): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = mean + std * this.normal();
    return out;
  }

  /** `n` values from U(low, high) as float32. */
  uniformArray(n: number, low: number, high: number): Float32Array {
    const out = new Float32Array(n);
    const span = high - low;
    for (let i = 0; i < n; i++) out[i] = low + span * this.uniform();
    return out;
  }

  /** A uniformly random permutation of 0..n-1 (Fisher-Yates). */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.uniform() * (i + 1));
      [out[i], out[j]] = [out[j], out[i]];
    }
    return out;
  }
}
