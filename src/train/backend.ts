/**
 * tfjs backend selection:
 * - `onnxruntime`: tfjs-backend-cpu with its expensive kernels running in onnxruntime's vectorised CPU
 *   kernels (src/engine/; the library ships in the `onnxruntime-node` npm package, so nothing else is
 *   installed);
 * - `tensorflow`: libtensorflow through `@tensorflow/tfjs-node-gpu` or `@tensorflow/tfjs-node`, only when
 *   installed with `deno task setup:tensorflow`;
 * - `webgpu`: Deno's built-in WebGPU (a real GPU through Vulkan/Metal/D3D12, or Mesa's llvmpipe software
 *   adapter);
 * - `cpu`: tfjs-backend-cpu, pure JavaScript;
 * - `auto`: tensorflow, else webgpu on a hardware adapter, else onnxruntime, else cpu.
 *
 * @module
 */
import * as tf from "@tensorflow/tfjs-core";

/** What `--backend` accepts, `auto` first. */
export const BACKEND_CHOICES = ["auto", "onnxruntime", "tensorflow", "webgpu", "cpu"] as const;
/** What `--backend` accepts. */
export type BackendChoice = (typeof BACKEND_CHOICES)[number];
/** A backend the harness can run on. */
export type BackendName = Exclude<BackendChoice, "auto">;

/** The backend in use, recorded in run metadata. */
export interface BackendInfo {
  name: BackendName;
  /** WebGPU adapter, when name is `webgpu`. */
  adapter?: { vendor: string; device: string; description: string; isFallbackAdapter: boolean };
  /** Package versions, e.g. `{"tfjs-core": "4.22.0", deno: "2.9.6", onnxruntime: "1.30.0"}`. */
  versions: Record<string, string>;
  /** The compute engine under tfjs, e.g. `onnxruntime 1.30.0 (MLAS, CPU)` or `tfjs-backend-cpu (JavaScript)`. */
  engine: string;
  /** Threads the engine computes with (1 for pure JavaScript; absent when the device decides). */
  threads?: number;
  /**
   * Whether the same seed gives bit-identical results: `yes` (same backend, any machine), `same-machine`
   * (same engine, CPU and thread count), or `no` (GPU kernels may reduce in any order).
   */
  deterministic: "yes" | "same-machine" | "no";
}

/** Options of {@linkcode initBackend}. */
export interface BackendOptions {
  /**
   * Threads of the onnxruntime engine's pool. Default: `VTADL_THREADS`, else every logical CPU. Results
   * are bit-identical only for the same thread count.
   */
  threads?: number;
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
      engine: `libtensorflow (${pkg.slice("@tensorflow/".length)})`,
      deterministic: "no",
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

async function loadWebgpu({ hardwareOnly = false } = {}): Promise<BackendInfo> {
  const gpu = (navigator as Navigator & { gpu?: GPU }).gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (!adapter) {
    throw new BackendUnavailableError(
      "webgpu backend: no WebGPU adapter (install a Vulkan driver or Mesa's llvmpipe) or choose --backend cpu",
    );
  }
  const fallback = (adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ??
    false;
  if (hardwareOnly && fallback) {
    throw new BackendUnavailableError(
      `webgpu backend: only a software adapter (${adapter.info.description}) is available`,
    );
  }
  await import("@tensorflow/tfjs-backend-webgpu");
  if (!(await tf.setBackend("webgpu"))) {
    throw new BackendUnavailableError(
      "webgpu backend: tfjs-backend-webgpu failed to initialise; choose --backend cpu",
    );
  }
  const info = adapter.info;
  const description = info.description || `${info.vendor} ${info.device}`;
  return {
    name: "webgpu",
    adapter: {
      vendor: info.vendor,
      device: info.device,
      description: info.description,
      isFallbackAdapter: fallback,
    },
    versions: { ...baseVersions(), "tfjs-backend-webgpu": tf.version_core },
    engine: `WebGPU on ${description}`,
    deterministic: "no",
  };
}

async function loadCpu(): Promise<BackendInfo> {
  await import("@tensorflow/tfjs-backend-cpu");
  await tf.setBackend("cpu");
  // tfjs-backend-cpu prints a "you are running in Node.js, install tfjs-node" banner on first use.
  (tf.backend() as unknown as { firstUse: boolean }).firstUse = false;
  return {
    name: "cpu",
    versions: { ...baseVersions(), "tfjs-backend-cpu": tf.version_core },
    engine: "tfjs-backend-cpu (JavaScript)",
    threads: 1,
    deterministic: "yes",
  };
}

/** Threads from the options, else `VTADL_THREADS`, else the number of logical CPUs. */
export function engineThreads(options: BackendOptions = {}): number {
  const fromEnv = Deno.env.get("VTADL_THREADS");
  const threads = options.threads ?? (fromEnv ? Number(fromEnv) : navigator.hardwareConcurrency);
  if (!Number.isInteger(threads) || threads < 1) {
    throw new BackendUnavailableError(
      `thread count ${fromEnv ?? threads} is not a positive integer (VTADL_THREADS or --threads)`,
    );
  }
  return threads;
}

async function loadOnnxruntime(options: BackendOptions): Promise<BackendInfo> {
  await import("@tensorflow/tfjs-backend-cpu");
  const { OrtRuntime, EngineUnavailableError } = await import("../engine/ort_ffi.ts");
  const { registerOrtBackend, ORT_BACKEND_NAME } = await import("../engine/native_backend.ts");
  const threads = engineThreads(options);
  let runtime;
  try {
    runtime = OrtRuntime.shared({ threads });
  } catch (error) {
    if (error instanceof EngineUnavailableError) throw new BackendUnavailableError(error.message);
    throw error;
  }
  registerOrtBackend(runtime);
  if (!(await tf.setBackend(ORT_BACKEND_NAME))) {
    throw new BackendUnavailableError("onnxruntime backend: failed to initialise; choose --backend cpu");
  }
  return {
    name: "onnxruntime",
    versions: {
      ...baseVersions(),
      "tfjs-backend-cpu": tf.version_core,
      onnxruntime: runtime.version,
    },
    engine: `onnxruntime ${runtime.version} (CPU, MLAS)`,
    threads: runtime.threads,
    deterministic: "same-machine",
  };
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
export async function initBackend(choice: BackendChoice, options: BackendOptions = {}): Promise<BackendInfo> {
  switch (choice) {
    case "onnxruntime":
      return await loadOnnxruntime(options);
    case "tensorflow":
      return await loadTensorflow();
    case "webgpu":
      return await loadWebgpu();
    case "cpu":
      return await loadCpu();
    case "auto": {
      // A software WebGPU adapter (llvmpipe) runs on the CPU and is 5–20× slower than onnxruntime there.
      const candidates = [
        () => loadTensorflow(),
        () => loadWebgpu({ hardwareOnly: true }),
        () => loadOnnxruntime(options),
      ];
      for (const load of candidates) {
        try {
          return await load();
        } catch (error) {
          if (!(error instanceof BackendUnavailableError)) throw error;
        }
      }
      return await loadCpu();
    }
    default:
      throw new BackendUnavailableError(
        `unknown backend '${choice}': expected ${BACKEND_CHOICES.join(", ")}`,
      );
  }
}

/**
 * One line describing a backend, e.g. `onnxruntime (onnxruntime 1.30.0 (CPU, MLAS), 2 threads)` or
 * `webgpu (llvmpipe …, fallback adapter)`.
 */
export function describeBackend(info: BackendInfo): string {
  if (info.name === "onnxruntime") return `${info.name} (${info.engine}, ${info.threads} threads)`;
  if (!info.adapter) return info.name;
  const a = info.adapter;
  return `${info.name} (${a.description || `${a.vendor} ${a.device}`}${
    a.isFallbackAdapter ? ", fallback adapter" : ""
  })`;
}
