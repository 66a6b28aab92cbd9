/**
 * tfjs backend selection: `tensorflow` (libtensorflow through `@tensorflow/tfjs-node-gpu` or
 * `@tensorflow/tfjs-node`, only when installed with `deno task setup:tensorflow`), `webgpu` (Deno's
 * built-in WebGPU: a real GPU through Vulkan/Metal/D3D12, or Mesa's llvmpipe software adapter), `cpu`
 * (pure JavaScript), or `auto` (the first of those that works).
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** A backend the harness can run on. */
export type BackendName = "tensorflow" | "webgpu" | "cpu";
/** What `--backend` accepts. */
export const BACKEND_CHOICES = ["auto", "tensorflow", "webgpu", "cpu"] as const;
/** A `--backend` value. */
export type BackendChoice = typeof BACKEND_CHOICES[number];

/** The backend in use, recorded in run metadata. */
export interface BackendInfo {
  name: BackendName;
  /** WebGPU adapter, when name is `webgpu`. */
  adapter?: { vendor: string; device: string; description: string; isFallbackAdapter: boolean };
  /** Package versions, e.g. `{"tfjs-core": "4.22.0", deno: "2.9.6"}`. */
  versions: Record<string, string>;
}

/** The backend could not be started; the message says why and what to do. */
export class BackendUnavailableError extends Error {
  override name = "BackendUnavailableError";
}

/** The tfjs-node packages tried for `tensorflow`, GPU build first. */
export const TENSORFLOW_PACKAGES = ["@tensorflow/tfjs-node-gpu", "@tensorflow/tfjs-node"];

const SETUP_HINT =
  "run `deno task setup:tensorflow` (or `setup:tensorflow-gpu`; needs internet to download " +
  "libtensorflow) or choose --backend webgpu|cpu";

function baseVersions(): Record<string, string> {
  return { "tfjs-core": tf.version_core, deno: Deno.version.deno };
}

/**
 * Loads the first importable tfjs-node package. `importer` is injectable for tests; by default it is a
 * dynamic import of the bare package name, which resolves only after `setup:tensorflow` added it to the
 * import map.
 */
export async function loadTensorflow(
  importer: (specifier: string) => Promise<unknown> = (specifier) => import(specifier),
): Promise<BackendInfo> {
  const failures: string[] = [];
  for (const pkg of TENSORFLOW_PACKAGES) {
    try {
      await importer(pkg);
    } catch (error) {
      const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
      failures.push(`${pkg}: ${message}`);
      continue;
    }
    if (!(await tf.setBackend("tensorflow"))) {
      throw new BackendUnavailableError(
        `tensorflow backend: ${pkg} loaded but its native binding did not register; ${SETUP_HINT}`,
      );
    }
    return {
      name: "tensorflow",
      versions: { ...baseVersions(), [pkg.slice("@tensorflow/".length)]: tf.version_core },
    };
  }
  const notInstalled = failures.every((f) =>
    /not (found|a dependency)|Cannot find|Relative import|import map/i.test(f)
  );
  throw new BackendUnavailableError(
    notInstalled
      ? `tensorflow backend: neither ${TENSORFLOW_PACKAGES.join(" nor ")} is installed; ${SETUP_HINT}`
      : `tensorflow backend: failed to load (${failures.join("; ")}); ${SETUP_HINT}`,
  );
}

async function loadWebgpu(): Promise<BackendInfo> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu backend: no WebGPU adapter (install a Vulkan driver or Mesa's llvmpipe) or choose --backend cpu",
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) {
    throw new BackendUnavailableError(
      "webgpu backend: tfjs-backend-webgpu failed to initialise; choose --backend cpu",
    );
  }
  const info = adapter.info;
  return {
    name: "webgpu",
    adapter: {
      vendor: info.vendor,
      device: info.device,
      description: info.description,
      isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
        false,
    },
    versions: { ...baseVersions(), "tfjs-backend-webgpu": tf.version_core },
  };
}

async function loadCpu(): Promise<BackendInfo> {
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  // tfjs-backend-cpu prints a "you are running in Node.js, install tfjs-node" banner on first use.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return { name: "cpu", versions: { ...baseVersions(), "tfjs-backend-cpu": tf.version_core } };
}

/**
 * Selects and initialises a backend. `auto` tries tensorflow, then webgpu, then cpu.
 *
 * @example
 * ```ts
 * const info = await initBackend("auto");
 * console.log(`backend: ${info.name}`);
 * ```
 */
export async function initBackend(choice: BackendChoice): Promise<BackendInfo> {
  switch (choice) {
    case "tensorflow":
      return await loadTensorflow();
    case "webgpu":
      return await loadWebgpu();
    case "cpu":
      return await loadCpu();
    case "auto":
      for (const load of [() => loadTensorflow(), loadWebgpu]) {
        try {
          return await load();
        } catch (error) {
          if (!(error instanceof BackendUnavailableError)) throw error;
        }
      }
      return await loadCpu();
    default:
      throw new BackendUnavailableError(
        `unknown backend '${choice}': expected auto, tensorflow, webgpu or cpu`,
      );
  }
}

/** One line describing a backend, e.g. `webgpu (llvmpipe …, fallback adapter)`. */
export function describeBackend(info: BackendInfo): string {
  if (!info.adapter) return info.name;
  const a = info.adapter;
  return `${info.name} (${a.description || `${a.vendor} ${a.device}`}${
    a.isFallbackAdapter ? ", fallback adapter" : ""
  })`;
}
