/**
 * Digests of a cell's model outputs, recorded so that two runs can be compared bit for bit without
 * keeping the maps: `nightly`'s determinism gate runs the same seed twice on the same backend and
 * requires equal digests.
 *
 * The digest covers the exact bytes (IEEE-754, little-endian) of every anomaly map in test order, each
 * preceded by its width and height, so a changed value, order or shape changes it.
 *
 * Test hook (documented in docs/nightly.md): when the environment variable
 * `VTADL_TEST_NONDETERMINISTIC_OUTPUTS=1` is set, a random nonce is hashed in as well, which makes every
 * run's digests differ as if the backend were nondeterministic. Tests use it to check that the
 * determinism gate fails; nothing else reads it.
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";
import type { ScoreMap } from "../metrics/mod.ts";

/** The environment variable of the test hook above. */
export const NONDETERMINISM_TEST_HOOK = "VTADL_TEST_NONDETERMINISTIC_OUTPUTS";

/** Digests of a cell's outputs (`outputs` of a run record). */
export interface OutputsDigest {
  /** sha256 over the ordered anomaly maps; null when the split has no maps (no masks, e.g. MNIST). */
  mapsDigest: string | null;
  /** sha256 over the image scores (float64) in test order. */
  scoresDigest: string;
}

function testHookEnabled(): boolean {
  try {
    return Deno.env.get(NONDETERMINISM_TEST_HOOK) === "1";
  } catch {
    return false; // no --allow-env: the hook is off
  }
}

function bytesOf(view: ArrayBufferView): Uint8Array {
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
}

function finish(hash: Hash): string {
  if (testHookEnabled()) hash.update(crypto.getRandomValues(new Uint8Array(16)));
  return hash.digest("hex");
}

/**
 * SHA-256 (hex) over the exact bytes of `maps` in order, each preceded by its width, height and dtype.
 *
 * @example
 * ```ts
 * const digest = mapsDigest([{ width: 2, height: 1, data: new Float32Array([0.1, 0.9]) }]);
 * ```
 */
export function mapsDigest(maps: readonly ScoreMap[]): string {
  const hash = createHash("sha256");
  for (const map of maps) {
    const dtype = map.data instanceof Float64Array ? 64 : 32;
    hash.update(bytesOf(new Uint32Array([map.width, map.height, dtype])));
    hash.update(bytesOf(map.data));
  }
  return finish(hash);
}

/**
 * Digests of a cell's image scores and (when there are any) anomaly maps.
 *
 * @example
 * ```ts
 * const { mapsDigest, scoresDigest } = outputsDigest(evaluation.scores, evaluation.maps);
 * ```
 */
export function outputsDigest(scores: Float64Array, maps: readonly ScoreMap[] | null): OutputsDigest {
  const scoresHash = createHash("sha256").update(bytesOf(scores));
  return { mapsDigest: maps === null ? null : mapsDigest(maps), scoresDigest: finish(scoresHash) };
}
