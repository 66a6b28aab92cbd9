import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BackendUnavailableError,
  describeBackend,
  engineThreads,
  initBackend,
  loadTensorflow,
} from "../src/train/backend.ts";
import { EngineUnavailableError, OrtRuntime } from "../src/engine/ort_ffi.ts";

Deno.test("tensorflow backend without tfjs-node: one-line error naming setup:tensorflow", async () => {
  await assert.rejects(
    () => initBackend("tensorflow"),
    (e) =>
      e instanceof BackendUnavailableError && /neither .* is installed/.test(e.message) &&
      /deno task setup:tensorflow/.test(e.message) && !e.message.includes("\n"),
  );
});

Deno.test("tensorflow backend whose native binding fails to load says so", async () => {
  const importer = (pkg: string) =>
    Promise.reject(new Error(`${pkg}: libtensorflow.so.2: cannot open shared object file`));
  await assert.rejects(
    () => loadTensorflow(importer),
    (e) => e instanceof BackendUnavailableError && /failed to load .*libtensorflow/.test(e.message),
  );
});

Deno.test("auto skips an absent tensorflow and a software WebGPU adapter and picks onnxruntime", async () => {
  const adapter = await (navigator as Navigator & { gpu?: GPU }).gpu?.requestAdapter();
  const hardwareGpu = adapter !== null && adapter !== undefined &&
    !(adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const info = await initBackend("auto");
  assert.equal(info.name, hardwareGpu ? "webgpu" : "onnxruntime");
  assert.equal(tf.getBackend(), info.name);
  assert.equal(info.versions["tfjs-core"], tf.version_core);
  assert.match(describeBackend(info), new RegExp(`^${info.name}`));
  await initBackend("cpu");
  assert.equal(tf.getBackend(), "cpu");
});

Deno.test("onnxruntime backend records its engine, library version, thread count and determinism", async () => {
  // Tests share one process, hence one onnxruntime environment: use its thread count.
  const info = await initBackend("onnxruntime");
  assert.equal(info.name, "onnxruntime");
  assert.equal(info.threads, engineThreads());
  assert.match(info.versions.onnxruntime, /^\d+\.\d+\.\d+/);
  assert.match(info.engine, new RegExp(`^onnxruntime ${info.versions.onnxruntime.replaceAll(".", "\\.")}`));
  assert.equal(info.deterministic, "same-machine");
  assert.equal(describeBackend(info), `onnxruntime (${info.engine}, ${info.threads} threads)`);
  // One onnxruntime environment per process: another thread count is refused, the same one is fine.
  const other = info.threads! + 1;
  await assert.rejects(() => initBackend("onnxruntime", { threads: other }), BackendUnavailableError);
  assert.equal((await initBackend("onnxruntime", { threads: info.threads })).threads, info.threads);
  const cpu = await initBackend("cpu");
  assert.deepEqual([cpu.threads, cpu.deterministic], [1, "yes"]);
});

Deno.test("thread counts must be positive integers, from the option or VTADL_THREADS", () => {
  assert.equal(engineThreads({ threads: 3 }), 3);
  assert.throws(() => engineThreads({ threads: 0 }), BackendUnavailableError);
  Deno.env.set("VTADL_THREADS", "two");
  try {
    assert.throws(() => engineThreads(), /VTADL_THREADS/);
    Deno.env.set("VTADL_THREADS", "1");
    assert.equal(engineThreads(), 1);
  } finally {
    Deno.env.delete("VTADL_THREADS");
  }
  assert.equal(engineThreads(), navigator.hardwareConcurrency);
});

Deno.test("a missing onnxruntime library is refused with what to do", () => {
  assert.throws(
    () => OrtRuntime.load({ libraryPath: "/nonexistent/libonnxruntime.so.1" }),
    (e) =>
      e instanceof EngineUnavailableError && e.message.includes("/nonexistent/libonnxruntime.so.1") &&
      /deno install/.test(e.message) && /--backend/.test(e.message),
  );
});
