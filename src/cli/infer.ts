/**
 * `infer --weights FILE [--weights FILE2] --input X.npy|FOLDER --out DIR`: runs a model with given weights
 * (a harness checkpoint, a safetensors file, or the original code's two `.pt` files) on images, as the
 * original `test.py` does (eval mode, no noise, BatchNorm running statistics, one image at a time; via
 * `src/eval/infer.ts`), and writes `recon.npy` [B, H, W, 3] float32, `patch_nll.npy` [B, N] float32,
 * `anomaly_map.npy` [B, H, W] float32, `image_score.npy` [B] float64 and `infer.json` (weights, config,
 * backend, code version, inputs).
 *
 * @module
 */
import { join } from "node:path";
import { UsageError } from "../core/errors.ts";
import { configHash } from "../models/configs.ts";
import { defineCommand, repeatedFlag, stringFlag } from "./command.ts";
import { BACKEND_FLAG, CONFIG_FLAGS, configFromFlags, MODEL_FLAG } from "./flags.ts";

const IMAGE_EXTENSIONS = [".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"];

/** The `infer` subcommand. */
export const command = defineCommand({
  name: "infer",
  summary: "Run a model with given weights on images; write recon, patch NLL, maps and scores (.npy)",
  usage: "--weights FILE [--weights FILE2] --input X.npy|FOLDER --out DIR [--model M] [--config NAME] " +
    "[--backend B]",
  description:
    "X.npy holds float32 NHWC [B, H, W, 3] (or [B, H, W, 1]) in [0, 1] at the config's image size. " +
    "A FOLDER's images (png, jpg, bmp, tif; sorted by name) are decoded, resized to the config's resizeTo " +
    "and centre-cropped to imageSize as the pipeline does. Writes recon.npy, patch_nll.npy, anomaly_map.npy, " +
    "image_score.npy (float64) and infer.json to DIR, computed as the original test.py does.",
  flags: {
    ...MODEL_FLAG,
    ...CONFIG_FLAGS,
    config: { ...CONFIG_FLAGS.config, default: "code" as const },
    weights: repeatedFlag({
      description:
        "Weights: a .ckpt, a .safetensors, or the original's two .pt files (pass --weights twice).",
      valueName: "FILE",
    }),
    input: stringFlag({ description: "Images: X.npy (NHWC float32 in [0, 1]) or a folder.", valueName: "X" }),
    out: stringFlag({ description: "Output folder.", valueName: "DIR" }),
    ...BACKEND_FLAG,
  },
  positionals: { min: 0, max: 0 },
  async run(flags) {
    if (flags.weights.length === 0) throw new UsageError("infer: --weights is required");
    if (!flags.input) throw new UsageError("infer: --input X.npy or --input FOLDER is required");
    if (!flags.out) throw new UsageError("infer: --out DIR is required");
    const config = configFromFlags(flags.model, flags.config, flags.set, "code");
    const { loadWeightFiles } = await import("../weights/weight_files.ts");
    const weights = await loadWeightFiles(flags.weights, config);
    const input = await readInput(flags.input, config.resizeTo, config.imageSize);
    const { describeBackend, initBackend } = await import("../train/backend.ts");
    const backend = await initBackend(flags.backend, { threads: flags.threads });
    console.error(`backend: ${describeBackend(backend)}`);
    const { buildNetwork } = await import("../models/network.ts");
    const { RandomStream } = await import("../util/rng.ts");
    const { assignParameters } = await import("../weights/assign.ts");
    const { inferImages } = await import("../eval/infer.ts");
    const network = buildNetwork(config, RandomStream.derive(0, "init"));
    try {
      assignParameters(network, weights.params);
      weights.params.clear();
      const result = await inferImages(network, input.batch, {
        onImage: (done, total) => console.error(`image ${done}/${total}`),
      });
      const [b, h, w] = input.batch.shape;
      const { writeNpy } = await import("../util/npy.ts");
      const { writeJsonAtomic } = await import("../util/atomic_write.ts");
      const { codeVersion } = await import("../eval/environment.ts");
      await Deno.mkdir(flags.out, { recursive: true });
      await writeNpy(join(flags.out, "recon.npy"), { shape: [b, h, w, 3], data: result.recon });
      await writeNpy(join(flags.out, "patch_nll.npy"), { shape: [b, result.patches], data: result.patchNll });
      await writeNpy(join(flags.out, "anomaly_map.npy"), { shape: [b, h, w], data: result.anomalyMap });
      await writeNpy(join(flags.out, "image_score.npy"), { shape: [b], data: result.imageScore });
      await writeJsonAtomic(join(flags.out, "infer.json"), {
        tool: "vtadl-bench infer",
        model: config.model,
        config: { name: config.name, hash: configHash(config), resolved: config },
        weights: { digest: weights.digest, files: weights.sources },
        input: input.description,
        images: b,
        imageScore: result.imageScoreVariant,
        heatmapSigma: result.heatmapSigma,
        backend,
        code: await codeVersion(),
      });
      console.log(
        `infer: ${b} image(s) → ${flags.out} (image scores: ${
          Array.from(result.imageScore, (s) => s.toPrecision(6)).join(", ")
        })`,
      );
      return 0;
    } finally {
      network.dispose();
    }
  },
});

/** The images of `--input`: a `.npy` batch as is, or a folder's images preprocessed as the pipeline does. */
async function readInput(
  path: string,
  resize: number,
  crop: number,
): Promise<{
  batch: { shape: [number, number, number, number]; data: Float32Array };
  description: Record<string, unknown>;
}> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) throw new UsageError(`--input ${path}: not found`);
    throw error;
  }
  if (info.isFile) {
    const { readNpy } = await import("../util/npy.ts");
    const { shape, data } = await readNpy(path);
    if (shape.length !== 4) {
      throw new UsageError(`--input ${path}: shape (${shape.join(", ")}); expected NHWC [B, H, W, 3]`);
    }
    if (!(data instanceof Float32Array)) {
      throw new UsageError(`--input ${path}: float64 array; save it as float32 (x.astype(np.float32))`);
    }
    return {
      batch: { shape: shape as [number, number, number, number], data },
      description: { kind: "npy", name: path.split(/[\\/]/).pop(), shape },
    };
  }
  const names: string[] = [];
  for await (const e of Deno.readDir(path)) {
    const lower = e.name.toLowerCase();
    if (e.isFile && IMAGE_EXTENSIONS.some((x) => lower.endsWith(x))) names.push(e.name);
  }
  names.sort();
  if (names.length === 0) {
    throw new UsageError(`--input ${path}: no images (${IMAGE_EXTENSIONS.join(", ")}) in the folder`);
  }
  const { decodeImage } = await import("../datasets/image_decode.ts");
  const { preprocessImage } = await import("../datasets/preprocess.ts");
  const per = crop * crop * 3;
  const data = new Float32Array(names.length * per);
  for (let i = 0; i < names.length; i++) {
    const pixels = await preprocessImage(await decodeImage(join(path, names[i])), resize, crop);
    for (let j = 0; j < per; j++) data[i * per + j] = pixels[j] / 255; // ToTensor(): no normalisation
  }
  return {
    batch: { shape: [names.length, crop, crop, 3], data },
    description: { kind: "folder", files: names, resize, crop },
  };
}
