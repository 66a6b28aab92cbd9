/**
 * The identity of a training run: what was trained (model, config hash, seed) on what (the caller's data
 * identity: dataset, content digest, category, preprocessing, subset). Its SHA-256 is the training key:
 * the reproduce plan names checkpoint folders with it, and checkpoints store it so that a checkpoint is
 * only ever continued by the same training. The ordered training list has its own digest, checked on
 * resume, so a different image list under the same name is refused too. A resumed run says where it
 * continues from ({@linkcode describeResume}).
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { ModelName } from "../core/models.ts";
import type { ImageSample } from "../datasets/types.ts";
import { canonicalJsonSha256 } from "../util/canonical_json.ts";

/** Everything that goes into training. */
export interface TrainingIdentity {
  model: ModelName;
  configHash: string;
  seed: number;
  /** What the images are: dataset, content digest, category, preprocessing, subset (caller-defined). */
  data: Record<string, unknown>;
}

/**
 * The training key: SHA-256 of the identity's canonical JSON.
 *
 * @example
 * ```ts
 * trainingKey({ model: "vtadl", configHash, seed: 0, data: { dataset: "synthetic", category: "disc" } });
 * ```
 */
export function trainingKey(identity: TrainingIdentity): string {
  return canonicalJsonSha256(identity);
}

/**
 * SHA-256 of the ordered training list: every image's path, size and pixels, in order.
 *
 * @example
 * ```ts
 * trainingListDigest(split.train); // "9c1f…"
 * ```
 */
export function trainingListDigest(images: ImageSample[]): string {
  const hash = createHash("sha256");
  for (const img of images) {
    hash.update(`${img.path}\0${img.width}x${img.height}x${img.channels}\0`);
    hash.update(img.pixels);
  }
  return hash.digest("hex");
}

/** Where a resumed training run left off. */
export interface ResumePoint {
  /** The checkpoint continued. */
  path: string;
  /** Epochs completed. */
  epoch: number;
  /** Steps of the next epoch already taken (mid-epoch checkpoint), else 0. */
  step: number;
}

/**
 * One line saying where training continues from.
 *
 * @example
 * ```ts
 * describeResume({ path: "ckpt/last.ckpt", epoch: 2, step: 3 }, 5);
 * // "resuming from ckpt/last.ckpt: epoch 2/5 and 3 step(s) of epoch 3 done (--restart starts over)"
 * ```
 */
export function describeResume(from: ResumePoint, totalEpochs: number): string {
  return `resuming from ${from.path}: epoch ${from.epoch}/${totalEpochs}` +
    (from.step > 0 ? ` and ${from.step} step(s) of epoch ${from.epoch + 1}` : "") +
    " done (--restart starts over)";
}
