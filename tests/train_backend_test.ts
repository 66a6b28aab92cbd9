import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import {
  BackendUnavailableError,
  describeBackend,
  initBackend,
  loadTensorflow,
} from "../src/train/backend.ts";

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

Deno.test("auto falls back past an absent tensorflow to webgpu or cpu", async () => {
  const info = await initBackend("auto");
  assert.ok(info.name === "webgpu" || info.name === "cpu", info.name);
  assert.equal(tf.getBackend(), info.name);
  assert.equal(info.versions["tfjs-core"], tf.version_core);
  if (info.name === "webgpu") assert.ok(info.adapter && typeof info.adapter.isFallbackAdapter === "boolean");
  assert.match(describeBackend(info), new RegExp(`^${info.name}`));
  await initBackend("cpu");
  assert.equal(tf.getBackend(), "cpu");
});
