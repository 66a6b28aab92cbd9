/**
 * onnxruntime's C API through Deno FFI: load `libonnxruntime`, create sessions from in-memory ONNX models
 * and run them synchronously on caller-owned buffers (inputs and outputs are wrapped, never copied).
 *
 * Why the C API and not `onnxruntime-node`'s JavaScript API: tfjs kernels must return synchronously, and
 * the JS API's `run` returns a promise; the C API's `Run` is synchronous, writes into pre-allocated
 * outputs, and lets every session share one global thread pool. The library itself is the one the npm
 * package `onnxruntime-node` ships (`bin/napi-v6/<platform>/<arch>/`), so it arrives with the project's
 * own dependencies; `VTADL_ORT_LIBRARY` points the engine at another build.
 *
 * `OrtApi` is a table of function pointers; the indices below are the positions of its members in
 * `onnxruntime_c_api.h` (they are append-only across releases; the engine asks for API version 17).
 *
 * @module
 */
import { createRequire } from "node:module";
import { join } from "node:path";

/** The engine's native library could not be loaded or initialised; the message says what to do. */
export class EngineUnavailableError extends Error {
  override name = "EngineUnavailableError";
}

/** An onnxruntime call failed. */
export class OrtError extends Error {
  override name = "OrtError";
}

const API_VERSION = 17;

/** Positions of the members of `struct OrtApi` the engine calls. */
const API = {
  GetErrorCode: 1,
  GetErrorMessage: 2,
  CreateSessionFromArray: 8,
  Run: 9,
  CreateSessionOptions: 10,
  SetSessionGraphOptimizationLevel: 23,
  CreateTensorWithDataAsOrtValue: 49,
  CreateCpuMemoryInfo: 69,
  ReleaseEnv: 92,
  ReleaseStatus: 93,
  ReleaseMemoryInfo: 94,
  ReleaseSession: 95,
  ReleaseValue: 96,
  ReleaseSessionOptions: 100,
  CreateEnvWithGlobalThreadPools: 119,
  DisablePerSessionThreads: 120,
  DisableCpuMemArena: 19,
  CreateThreadingOptions: 121,
  ReleaseThreadingOptions: 122,
  AddSessionConfigEntry: 130,
  SetGlobalIntraOpNumThreads: 147,
  SetGlobalInterOpNumThreads: 148,
  SetGlobalSpinControl: 149,
} as const;

const SIGNATURES = {
  GetErrorCode: { parameters: ["pointer"], result: "i32" },
  GetErrorMessage: { parameters: ["pointer"], result: "pointer" },
  CreateSessionFromArray: {
    parameters: ["pointer", "buffer", "usize", "pointer", "buffer"],
    result: "pointer",
  },
  Run: {
    parameters: ["pointer", "pointer", "buffer", "buffer", "usize", "buffer", "usize", "buffer"],
    result: "pointer",
  },
  CreateSessionOptions: { parameters: ["buffer"], result: "pointer" },
  SetSessionGraphOptimizationLevel: { parameters: ["pointer", "i32"], result: "pointer" },
  CreateTensorWithDataAsOrtValue: {
    parameters: ["pointer", "pointer", "usize", "buffer", "usize", "i32", "buffer"],
    result: "pointer",
  },
  CreateCpuMemoryInfo: { parameters: ["i32", "i32", "buffer"], result: "pointer" },
  ReleaseEnv: { parameters: ["pointer"], result: "void" },
  ReleaseStatus: { parameters: ["pointer"], result: "void" },
  ReleaseMemoryInfo: { parameters: ["pointer"], result: "void" },
  ReleaseSession: { parameters: ["pointer"], result: "void" },
  ReleaseValue: { parameters: ["pointer"], result: "void" },
  ReleaseSessionOptions: { parameters: ["pointer"], result: "void" },
  CreateEnvWithGlobalThreadPools: { parameters: ["i32", "buffer", "pointer", "buffer"], result: "pointer" },
  DisablePerSessionThreads: { parameters: ["pointer"], result: "pointer" },
  DisableCpuMemArena: { parameters: ["pointer"], result: "pointer" },
  CreateThreadingOptions: { parameters: ["buffer"], result: "pointer" },
  ReleaseThreadingOptions: { parameters: ["pointer"], result: "void" },
  AddSessionConfigEntry: { parameters: ["pointer", "buffer", "buffer"], result: "pointer" },
  SetGlobalIntraOpNumThreads: { parameters: ["pointer", "i32"], result: "pointer" },
  SetGlobalInterOpNumThreads: { parameters: ["pointer", "i32"], result: "pointer" },
  SetGlobalSpinControl: { parameters: ["pointer", "i32"], result: "pointer" },
} as const satisfies Record<keyof typeof API, Deno.ForeignFunction>;

type Api = { [K in keyof typeof API]: Deno.UnsafeFnPointer<(typeof SIGNATURES)[K]>["call"] };

/** A tensor argument: a typed array over exactly the tensor's elements, and its shape. */
export interface OrtTensorArg {
  /** float32, int32, or bool as one byte per element (tfjs-cpu's storage of bool tensors). */
  data: Float32Array | Int32Array | Uint8Array;
  shape: readonly number[];
}

const ELEMENT_TYPE = { float32: 1, int32: 6, bool: 9 } as const;
const ORT_LOGGING_LEVEL_ERROR = 3;
/** onnxruntime's graph optimisation levels (`all` includes the NCHWc layout transformer). */
export type GraphOptimization = "none" | "basic" | "extended" | "all";
const OPTIMIZATION_LEVEL: Record<GraphOptimization, number> = { none: 0, basic: 1, extended: 2, all: 99 };
const ORT_ARENA_ALLOCATOR = 1;
const ORT_MEM_TYPE_DEFAULT = 0;

function cString(text: string): Uint8Array<ArrayBuffer> {
  return new TextEncoder().encode(`${text}\0`) as Uint8Array<ArrayBuffer>;
}

/** Path of the libonnxruntime that ships in the `onnxruntime-node` npm package, for this platform. */
export function bundledLibraryPath(): string {
  const root = createRequire(import.meta.url).resolve("onnxruntime-node/package.json");
  const dir = join(
    root,
    "..",
    "bin",
    "napi-v6",
    Deno.build.os === "windows" ? "win32" : Deno.build.os,
    {
      x86_64: "x64",
      aarch64: "arm64",
    }[Deno.build.arch] ?? Deno.build.arch,
  );
  const file = Deno.build.os === "windows"
    ? "onnxruntime.dll"
    : Deno.build.os === "darwin"
    ? "libonnxruntime.1.dylib"
    : "libonnxruntime.so.1";
  return join(dir, file);
}

/** Options of {@linkcode OrtRuntime.load}. */
export interface OrtRuntimeOptions {
  /** Threads of the shared intra-op pool (default: the number of logical CPUs). */
  threads?: number;
  /** Library to load (default: `VTADL_ORT_LIBRARY`, else the one in `onnxruntime-node`). */
  libraryPath?: string;
}

/**
 * One loaded onnxruntime: an environment with a global thread pool that every session uses.
 *
 * @example
 * ```ts
 * const ort = OrtRuntime.load({ threads: 2 });
 * const session = ort.createSession(encodeOnnxModel(graph));
 * session.run([{ data: x, shape: [4] }], [{ data: y, shape: [4] }]);
 * ```
 */
export class OrtRuntime {
  /** onnxruntime's version string, e.g. `1.30.0`. */
  readonly version: string;
  readonly threads: number;
  readonly libraryPath: string;
  readonly #api: Api;
  readonly #env: Deno.PointerValue;
  readonly #memoryInfo: Deno.PointerValue;
  readonly #sessionOptions = new Map<GraphOptimization, Deno.PointerValue>();
  // Keeps the library mapped for the life of the runtime.
  readonly #library: Deno.DynamicLibrary<{ OrtGetApiBase: { parameters: []; result: "pointer" } }>;
  readonly #out = new BigUint64Array(1);

  private constructor(libraryPath: string, threads: number) {
    this.libraryPath = libraryPath;
    this.threads = threads;
    try {
      this.#library = Deno.dlopen(libraryPath, { OrtGetApiBase: { parameters: [], result: "pointer" } });
    } catch (error) {
      throw new EngineUnavailableError(
        `onnxruntime: cannot load ${libraryPath} (${(error as Error).message.split("\n")[0]}); ` +
          "run `deno install` to fetch onnxruntime-node, set VTADL_ORT_LIBRARY, or choose another --backend",
      );
    }
    const base = this.#library.symbols.OrtGetApiBase();
    if (!base) throw new EngineUnavailableError(`onnxruntime: OrtGetApiBase returned null in ${libraryPath}`);
    const baseView = new Deno.UnsafePointerView(base);
    const getApi = new Deno.UnsafeFnPointer(baseView.getPointer(0)!, {
      parameters: ["u32"],
      result: "pointer",
    });
    const getVersion = new Deno.UnsafeFnPointer(baseView.getPointer(8)!, {
      parameters: [],
      result: "pointer",
    });
    this.version = Deno.UnsafePointerView.getCString(getVersion.call()!);
    const apiPointer = getApi.call(API_VERSION);
    if (!apiPointer) {
      throw new EngineUnavailableError(
        `onnxruntime ${this.version} at ${libraryPath} does not offer C API version ${API_VERSION}`,
      );
    }
    const table = new Deno.UnsafePointerView(apiPointer);
    const api: Record<string, unknown> = {};
    for (const [name, index] of Object.entries(API)) {
      const fn = new Deno.UnsafeFnPointer(
        table.getPointer(index * 8)!,
        SIGNATURES[name as keyof typeof API] as Deno.ForeignFunction,
      );
      api[name] = fn.call.bind(fn);
    }
    this.#api = api as Api;

    const threading = this.#create((out) => this.#api.CreateThreadingOptions(out));
    try {
      this.#check(this.#api.SetGlobalIntraOpNumThreads(threading, threads));
      this.#check(this.#api.SetGlobalInterOpNumThreads(threading, 1));
      // Idle pool threads sleep instead of spin-waiting for work: on a machine shared with other jobs,
      // spinning threads steal the cores the next kernel needs (measured: 2× slower `mnist` training under
      // load). VTADL_ORT_SPIN=1 turns spinning back on for a dedicated machine.
      this.#check(this.#api.SetGlobalSpinControl(threading, Deno.env.get("VTADL_ORT_SPIN") === "1" ? 1 : 0));
      this.#env = this.#create((out) =>
        this.#api.CreateEnvWithGlobalThreadPools(
          ORT_LOGGING_LEVEL_ERROR,
          cString("vtadl-bench"),
          threading,
          out,
        )
      );
    } finally {
      this.#api.ReleaseThreadingOptions(threading);
    }
    this.#memoryInfo = this.#create((out) =>
      this.#api.CreateCpuMemoryInfo(ORT_ARENA_ALLOCATOR, ORT_MEM_TYPE_DEFAULT, out)
    );
  }

  #options(level: GraphOptimization): Deno.PointerValue {
    let options = this.#sessionOptions.get(level);
    if (!options) {
      options = this.#create((out) => this.#api.CreateSessionOptions(out));
      this.#check(this.#api.DisablePerSessionThreads(options));
      if (Deno.env.get("ORT_NO_ARENA")) this.#check(this.#api.DisableCpuMemArena(options));
      this.#check(this.#api.SetSessionGraphOptimizationLevel(options, OPTIMIZATION_LEVEL[level]));
      this.#sessionOptions.set(level, options);
    }
    return options;
  }

  /**
   * Loads the library and creates the environment. Throws {@linkcode EngineUnavailableError} when the
   * library is missing or unusable.
   */
  static load(options: OrtRuntimeOptions = {}): OrtRuntime {
    const threads = options.threads ?? navigator.hardwareConcurrency;
    let path = options.libraryPath ?? Deno.env.get("VTADL_ORT_LIBRARY");
    if (!path) {
      try {
        path = bundledLibraryPath();
      } catch (error) {
        throw new EngineUnavailableError(
          `onnxruntime: the onnxruntime-node package is not installed (${
            (error as Error).message.split("\n")[0]
          }); ` +
            "run `deno install`, or choose another --backend",
        );
      }
    }
    return new OrtRuntime(path, threads);
  }

  static #shared: OrtRuntime | null = null;

  /**
   * The process-wide runtime (onnxruntime keeps one environment per process). The first call decides the
   * thread count; a later call asking for another count is refused.
   */
  static shared(options: OrtRuntimeOptions = {}): OrtRuntime {
    const existing = OrtRuntime.#shared;
    if (existing) {
      if (options.threads !== undefined && options.threads !== existing.threads) {
        throw new EngineUnavailableError(
          `onnxruntime already runs with ${existing.threads} threads in this process; ${options.threads} requested`,
        );
      }
      return existing;
    }
    return OrtRuntime.#shared = OrtRuntime.load(options);
  }

  #check(status: Deno.PointerValue): void {
    if (!status) return;
    const message = Deno.UnsafePointerView.getCString(this.#api.GetErrorMessage(status)!);
    const code = this.#api.GetErrorCode(status);
    this.#api.ReleaseStatus(status);
    throw new OrtError(`onnxruntime error ${code}: ${message}`);
  }

  #create(call: (out: BigUint64Array<ArrayBuffer>) => Deno.PointerValue): Deno.PointerValue {
    const out = new BigUint64Array(1);
    this.#check(call(out));
    return Deno.UnsafePointer.create(out[0]);
  }

  /** Compiles a model on the global thread pool, with graph optimisations up to `level` (default `all`). */
  createSession(
    model: Uint8Array,
    inputNames: readonly string[],
    outputNames: readonly string[],
    level: GraphOptimization = "all",
  ): OrtSession {
    const bytes = new Uint8Array(model) as Uint8Array<ArrayBuffer>;
    const options = this.#options(level);
    const session = this.#create((out) =>
      this.#api.CreateSessionFromArray(this.#env, bytes, BigInt(bytes.length), options, out)
    );
    return new OrtSession(this, session, inputNames, outputNames);
  }

  /** @internal Wraps a typed array as an OrtValue (no copy); release it with {@linkcode releaseValue}. */
  wrap(arg: OrtTensorArg): Deno.PointerValue {
    const shape = new BigInt64Array(arg.shape.length);
    arg.shape.forEach((d, i) => shape[i] = BigInt(d));
    const type = arg.data instanceof Float32Array
      ? ELEMENT_TYPE.float32
      : arg.data instanceof Int32Array
      ? ELEMENT_TYPE.int32
      : ELEMENT_TYPE.bool;
    this.#check(
      this.#api.CreateTensorWithDataAsOrtValue(
        this.#memoryInfo,
        Deno.UnsafePointer.of(arg.data),
        BigInt(arg.data.byteLength),
        shape,
        BigInt(arg.shape.length),
        type,
        this.#out,
      ),
    );
    return Deno.UnsafePointer.create(this.#out[0]);
  }

  /** @internal */
  releaseValue(value: Deno.PointerValue): void {
    this.#api.ReleaseValue(value);
  }

  /** @internal */
  runSession(
    session: Deno.PointerValue,
    inputNames: BigUint64Array<ArrayBuffer>,
    inputs: BigUint64Array<ArrayBuffer>,
    outputNames: BigUint64Array<ArrayBuffer>,
    outputs: BigUint64Array<ArrayBuffer>,
  ): void {
    this.#check(
      this.#api.Run(
        session,
        null,
        inputNames,
        inputs,
        BigInt(inputs.length),
        outputNames,
        BigInt(outputs.length),
        outputs,
      ),
    );
  }

  /** @internal */
  releaseSession(session: Deno.PointerValue): void {
    this.#api.ReleaseSession(session);
  }
}

/** A compiled graph with named inputs and outputs. */
export class OrtSession {
  readonly #runtime: OrtRuntime;
  #session: Deno.PointerValue;
  // The name strings must outlive the pointer arrays that reference them.
  readonly #names: Uint8Array[];
  readonly #inputNames: BigUint64Array<ArrayBuffer>;
  readonly #outputNames: BigUint64Array<ArrayBuffer>;

  /** @internal Use {@linkcode OrtRuntime.createSession}. */
  constructor(
    runtime: OrtRuntime,
    session: Deno.PointerValue,
    inputNames: readonly string[],
    outputNames: readonly string[],
  ) {
    this.#runtime = runtime;
    this.#session = session;
    this.#names = [...inputNames, ...outputNames].map(cString);
    const pointers = this.#names.map((n) => BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(n))));
    this.#inputNames = BigUint64Array.from(pointers.slice(0, inputNames.length));
    this.#outputNames = BigUint64Array.from(pointers.slice(inputNames.length));
  }

  /**
   * Runs the graph: inputs in declaration order, outputs written into the given arrays (their shapes
   * must be the graph's output shapes).
   */
  run(inputs: readonly OrtTensorArg[], outputs: readonly OrtTensorArg[]): void {
    if (!this.#session) throw new OrtError("session used after dispose()");
    const rt = this.#runtime;
    const values: Deno.PointerValue[] = [];
    try {
      const inputValues = new BigUint64Array(inputs.length);
      inputs.forEach((arg, i) => {
        const v = rt.wrap(arg);
        values.push(v);
        inputValues[i] = BigInt(Deno.UnsafePointer.value(v));
      });
      const outputValues = new BigUint64Array(outputs.length);
      outputs.forEach((arg, i) => {
        const v = rt.wrap(arg);
        values.push(v);
        outputValues[i] = BigInt(Deno.UnsafePointer.value(v));
      });
      rt.runSession(this.#session, this.#inputNames, inputValues, this.#outputNames, outputValues);
    } finally {
      for (const v of values) rt.releaseValue(v);
    }
  }

  /** Frees the native session. */
  dispose(): void {
    if (this.#session) this.#runtime.releaseSession(this.#session);
    this.#session = null;
  }
}
