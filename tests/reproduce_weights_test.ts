/**
 * `reproduce --weights`: a model trained elsewhere is scored with the exact metrics and the paper-layout
 * tables, without training, under an identity of its own.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { captureMain } from "./helpers/capture.ts";
import { resolveConfig } from "../src/models/configs.ts";
import type { PipelineDeps } from "../src/pipeline/deps.ts";
import { type ReproduceOptions, runReproduce } from "../src/pipeline/runner.ts";
import { loadRealDeps } from "../src/pipeline/real_deps.ts";
import { writeReport } from "../src/report/write_report.ts";
import { loadWeightFiles, outputFiles, saveWeights } from "../src/weights/weight_files.ts";
import { reproduceOptions } from "./fakes/pipeline_fakes.ts";

function options(dir: string, extra: Partial<ReproduceOptions> = {}): ReproduceOptions {
  return reproduceOptions(join(dir, "reports"), {
    categories: ["disc"],
    dataDir: join(dir, "data"),
    ...extra,
  });
}

/** Real deps that count trainer calls. */
function counting(deps: PipelineDeps): { deps: PipelineDeps; trained: number[] } {
  const trained: number[] = [];
  return {
    deps: { ...deps, trainModel: (o) => (trained.push(o.seed), deps.trainModel(o)) },
    trained,
  };
}

async function find(dir: string, name: string): Promise<string> {
  for await (const e of Deno.readDir(dir)) {
    const path = join(dir, e.name);
    if (e.isFile && e.name === name) return path;
    if (e.isDirectory) {
      const found = await find(path, name).catch(() => "");
      if (found) return found;
    }
  }
  throw new Error(`${name} not found under ${dir}`);
}

Deno.test("reproduce --weights: a trained cell's weights as the original .pt pair score the same metrics, without training, as a cell of its own", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const real = await loadRealDeps();
    const first = await runReproduce(options(dir), real);
    const trainedRecord = first.outcomes[0].record;
    assert.equal(trainedRecord.status, "completed");
    assert.equal(trainedRecord.weights, undefined);

    // The trained checkpoint, exported as the original code would have saved it.
    const config = resolveConfig("vtadl", "smoke", { epochs: "1" });
    const best = await find(join(dir, "reports", "checkpoints"), "best.ckpt");
    const w = await loadWeightFiles([best], config);
    const pairTarget = outputFiles([join(dir, "VT_AE_Mvtech_disc.pt")]);
    await saveWeights(w.params, config, pairTarget, { sources: w.sources });

    const second = counting(real);
    const checkpointsBefore = [...Deno.readDirSync(join(dir, "reports", "checkpoints"))].length;
    const imported = await runReproduce(
      options(dir, { weightPaths: [pairTarget.paths[1], pairTarget.paths[0]] }),
      second.deps,
    );
    const record = imported.outcomes[0].record;
    assert.equal(record.status, "completed", record.error?.message ?? "");
    assert.deepEqual(second.trained, [], "no training");
    assert.equal(record.training, null);
    assert.equal([...Deno.readDirSync(join(dir, "reports", "checkpoints"))].length, checkpointsBefore);
    assert.deepEqual(record.weights?.files.map((f) => [f.name, f.format]), [
      ["VT_AE_Mvtech_disc.pt", "torch"],
      ["G_estimate_Mvtech_disc.pt", "torch"],
    ]);
    for (const f of record.weights!.files) assert.match(f.sha256, /^[0-9a-f]{64}$/);
    // Its own identity: another run id, training key and cell key than the trained cell.
    assert.match(record.runId, /_imported_/);
    assert.notEqual(record.runId, trainedRecord.runId);
    assert.notEqual(record.trainingKey, trainedRecord.trainingKey);
    // The same weights on the same test images: the same metrics, exactly.
    assert.deepEqual(
      record.metrics.map((m) => [m.key, m.value]),
      trainedRecord.metrics.map((m) => [m.key, m.value]),
    );

    // A rerun skips the completed imported cell; the tables keep it in a column of its own, with provenance.
    const again = await runReproduce(options(dir, { weightPaths: pairTarget.paths }), second.deps);
    assert.equal(again.outcomes[0].status, "skipped");
    const report = await writeReport({
      runsDir: join(dir, "reports", "runs"),
      outDir: join(dir, "reports"),
      datasets: ["synthetic"],
    });
    assert.match(report.markdown, /VT-ADL ours \(smoke, score code, imported weights\)/);
    assert.match(
      report.markdown,
      /weights trained elsewhere \(not trained here\): disc: VT_AE_Mvtech_disc\.pt \(sha256 [0-9a-f]{12}\) \+ G_estimate_Mvtech_disc\.pt/,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("reproduce --weights: several categories, seeds or models are usage errors (exit 2)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "w.safetensors");
    await Deno.writeFile(file, Uint8Array.of(2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d)); // an empty safetensors file
    const run = async (...args: string[]) => {
      const r = await captureMain([
        "reproduce",
        "--weights",
        file,
        "--backend",
        "cpu",
        "--data-dir",
        join(dir, "data"),
        "--out",
        join(dir, "r"),
        ...args,
      ]);
      return [r.code, r.stderr] as const;
    };
    assert.deepEqual(await run("--seeds", "2"), [
      2,
      "error: --weights scores given weights: --seeds and --seed do not apply",
    ]);
    const [code, stderr] = await run("--model", "all");
    assert.equal(code, 2);
    assert.match(stderr, /pass one --model/);
    const [code2, stderr2] = await run("--config", "smoke");
    assert.equal(code2, 2);
    assert.match(stderr2, /one product's model; pass --categories with one of disc, /);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
