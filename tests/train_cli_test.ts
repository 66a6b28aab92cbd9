import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { main } from "../main.ts";
import { COMMANDS } from "../src/cli/commands.ts";
import { readCheckpoint } from "../src/train/checkpoint.ts";
import { readRunRecords } from "../src/runs/store.ts";
import { writeBtadFixture } from "./helpers/btad_fixture.ts";

async function capture(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const log = console.log, error = console.error;
  const out: string[] = [], err: string[] = [];
  console.log = (...a: unknown[]) => out.push(a.join(" "));
  console.error = (...a: unknown[]) => err.push(a.join(" "));
  try {
    return { code: await fn(), stdout: out.join("\n"), stderr: err.join("\n") };
  } finally {
    console.log = log;
    console.error = error;
  }
}

/** `train` of ae-mse on synthetic/disc on cpu, writing into `out` (data in `out/data`). */
function trainOnSynthetic(out: string, ...extra: string[]): string[] {
  const where = ["--out", out, "--data-dir", `${out}/data`];
  return [
    "train",
    "--dataset",
    "synthetic",
    "--category",
    "disc",
    "--model",
    "ae-mse",
    "--backend",
    "cpu",
    ...where,
    ...extra,
  ];
}

Deno.test("model-summary prints the exact VT-ADL code counts as JSON", async () => {
  const { code, stdout } = await capture(() =>
    main(["model-summary", "--model", "vtadl", "--config", "code"])
  );
  assert.equal(code, 0);
  assert.deepEqual(JSON.parse(stdout), {
    encoder: 18933248,
    projection: 16777216,
    decoder: 142099,
    mdn: 5248000,
    total: 41100563,
  });
});

Deno.test("model-summary rejects a bad --set with a usage error", async () => {
  const { code, stderr } = await capture(() =>
    main(["model-summary", "--config", "smoke", "--set", "numGaussians=ten"])
  );
  assert.equal(code, 2);
  assert.match(stderr, /numGaussians=ten: expected a number/);
});

Deno.test("train runs smoke on cpu, prints progress and writes train.json with the config hash", async () => {
  const out = await Deno.makeTempDir();
  const { code, stdout } = await capture(() =>
    main(trainOnSynthetic(out, "--config", "smoke", "--seed", "4", "--set", "epochs=1"))
  );
  assert.equal(code, 0);
  assert.match(stdout, /backend: cpu/);
  assert.match(stdout, /epoch 1\/1 {2}loss [0-9.]+ \(mse [0-9.]+, ssim [-0-9.]+\) {2}[0-9.]+ img\/s .* ETA/);
  const record = JSON.parse(await Deno.readTextFile(`${out}/train.json`));
  assert.equal(record.seed, 4);
  assert.equal(record.config.epochs, 1);
  assert.match(record.configHash, /^[0-9a-f]{64}$/);
  assert.equal(record.backend.name, "cpu");
  await Deno.stat(`${out}/checkpoints/best.ckpt`);
  await Deno.remove(out, { recursive: true });
});

Deno.test("train rejects unknown models, backends and datasets with usage errors", async () => {
  const base = ["train", "--dataset", "synthetic", "--category", "disc"];
  assert.equal((await capture(() => main([...base, "--model", "resnet"]))).code, 2);
  assert.equal((await capture(() => main([...base, "--backend", "tpu"]))).code, 2);
  assert.equal((await capture(() => main(["train"]))).code, 2);
  const unknownDataset = await capture(() => main(["train", "--dataset", "imagenet", "--category", "x"]));
  assert.equal(unknownDataset.code, 2);
  assert.match(
    unknownDataset.stderr,
    /--dataset: expected one of mnist, fashion-mnist, mvtec, btad, synthetic/,
  );
});

/** `deno run` arguments for main.ts with the train task's permissions but the network. */
function runMainWithoutNet(): string[] {
  const permissions = ["--allow-read", "--allow-write", "--allow-env", "--allow-ffi", "--allow-sys"];
  return ["run", ...permissions, fileURLToPath(new URL("../main.ts", import.meta.url))];
}

/** Starts `main.ts train` on synthetic in a child process (as `deno task train` would). */
function spawnTrain(out: string, extra: string[]): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: [
      ...runMainWithoutNet(),
      "train",
      "--dataset",
      "synthetic",
      "--category",
      "disc",
      "--config",
      "smoke",
      "--backend",
      "cpu",
      "--out",
      out,
      "--data-dir",
      `${out}/data`,
      ...extra,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

async function waitFor(path: string): Promise<void> {
  for (let waited = 0; waited < 120_000; waited += 20) {
    try {
      await Deno.stat(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  throw new Error(`${path} did not appear`);
}

Deno.test("Ctrl-C stops train after the current step, mid-epoch, with its state checkpointed", async () => {
  const out = await Deno.makeTempDir();
  // batch 1: 24 steps per epoch, so an interrupt that waited for the epoch's end would be visible.
  const child = spawnTrain(out, ["--set", "epochs=50", "--set", "batchSize=1"]);
  await waitFor(`${out}/checkpoints/last.ckpt`);
  await new Promise((r) => setTimeout(r, 300));
  child.kill("SIGINT");
  const { code, stderr } = await child.output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 130, text);
  assert.match(text, /interrupt received; stopping after the current training step/);
  const match = /interrupted: training interrupted in epoch (\d+), after step (\d+) of 24/.exec(text);
  assert.ok(match, text);
  const { meta } = await readCheckpoint(`${out}/checkpoints/last.ckpt`);
  assert.equal(meta.partial?.epoch, Number(match[1]));
  assert.equal(meta.partial?.steps, Number(match[2]));
  assert.ok(meta.partial!.steps < 24, "stopped inside the epoch");
  assert.match(text, /run the same command again to continue/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("a second Ctrl-C quits at once, even while a long step keeps the thread busy", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", fileURLToPath(new URL("./fixtures/interrupt_child.ts", import.meta.url))],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).values();
  const next = async () => (await lines.next()).value ?? "";
  assert.match(await next(), /ready/);
  child.kill("SIGINT");
  assert.match(await next(), /stopping/);
  const sent = performance.now();
  child.kill("SIGINT"); // the child is now busy for 20 s
  const status = await child.status;
  assert.ok(performance.now() - sent < 10_000, "it did not wait for the busy step");
  assert.equal(status.signal, "SIGINT");
  let rest = "";
  for await (const chunk of lines) rest += chunk;
  assert.doesNotMatch(rest, /finished gracefully/);
  const stderr = await new Response(child.stderr).text();
  assert.match(stderr, /press Ctrl-C again to quit at once/);
});

Deno.test("rerunning train continues its checkpoint by default and refuses another training's", async () => {
  const out = await Deno.makeTempDir();
  const base = trainOnSynthetic(out);
  assert.equal((await capture(() => main([...base, "--set", "epochs=1"]))).code, 0);
  const again = await capture(() => main([...base, "--set", "epochs=2"]));
  assert.equal(again.code, 1, "epochs=2 is another config: its checkpoint is refused, not overwritten");
  const twoEpochs = ["--set", "epochs=2"];
  const restarted = await capture(() => main([...base, ...twoEpochs, "--restart"]));
  assert.equal(restarted.code, 0);
  assert.doesNotMatch(restarted.stdout, /resuming/);
  const resumed = await capture(() => main([...base, ...twoEpochs]));
  assert.equal(resumed.code, 0);
  assert.match(resumed.stdout, /resuming from .*last\.ckpt: epoch 2\/2 done \(--restart starts over\)/);
  await Deno.remove(out, { recursive: true });
});

Deno.test("train and reproduce preprocess BTAD the same way and train the same model (paper config)", async () => {
  // The defect: train ignored `btadResize: direct512`, so it trained on other pixels than reproduce.
  const dir = await Deno.makeTempDir();
  const { lock, mirror } = await writeBtadFixture(dir);
  const common = [
    "--model",
    "ae-mse",
    "--config",
    "paper",
    ...["imageSize=32", "resizeTo=34", "epochs=1", "batchSize=4", "channelScale=0.25", "latentDim=16"]
      .flatMap((s) => ["--set", s]),
    "--backend",
    "cpu",
    "--lock",
    lock,
    "--mirror",
    mirror,
    "--data-dir",
    join(dir, "data"),
  ];
  const train = await capture(() =>
    main(["train", "--dataset", "btad", "--category", "01", ...common, "--out", join(dir, "train")])
  );
  assert.equal(train.code, 0, train.stderr);
  assert.match(train.stdout, /\(resize 32, crop 32\)/, "direct512: straight to the crop size");
  const trained = JSON.parse(await Deno.readTextFile(join(dir, "train", "train.json")));
  assert.deepEqual(trained.preprocess, { resize: 32, crop: 32, maskResize: "nearest" });

  const reproduce = await capture(() =>
    main(["reproduce", "btad", ...common, "--panels", "0", "--out", join(dir, "reports")])
  );
  assert.equal(reproduce.code, 0, reproduce.stderr);
  const { records } = await readRunRecords(join(dir, "reports", "runs"));
  assert.equal(records[0].trainingKey, trained.trainingKey, "one training identity for the same cell");
  assert.deepEqual(records[0].dataset.preprocess, trained.preprocess);
  const [ckptDir] = await Array.fromAsync(Deno.readDir(join(dir, "reports", "checkpoints")));
  const a = await readCheckpoint(join(dir, "train", "checkpoints", "best.ckpt"));
  const b = await readCheckpoint(join(dir, "reports", "checkpoints", ckptDir.name, "best.ckpt"));
  for (const [name, t] of a.tensors) assert.deepEqual(t.values, b.tensors.get(name)!.values, name);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("train accepts --accept-license, the flag its licence error asks for", async () => {
  const dir = await Deno.makeTempDir();
  const args = ["train", "--dataset", "mvtec", "--category", "bottle", "--data-dir", dir, "--offline"];
  const refused = await capture(() => main(args));
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /Run again with --accept-license/);
  const accepted = await capture(() => main([...args, "--accept-license"]));
  assert.equal(accepted.code, 1, "past the licence, the offline download fails");
  assert.doesNotMatch(accepted.stderr, /Unknown option|accept-license to accept/);
  assert.match(accepted.stderr, /could not get mvtec_anomaly_detection\.tar\.xz/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("every task whose command takes --mirror may use the network", async () => {
  const tasks: Record<string, string> = JSON.parse(
    await Deno.readTextFile(new URL("../deno.json", import.meta.url)),
  ).tasks;
  let checked = 0;
  for (const entry of COMMANDS) {
    const command = await entry.load();
    if (!("mirror" in command.flags)) continue;
    const task = tasks[entry.name];
    if (entry.name === "plan") {
      // plan takes reproduce's flags so that both see the same cells, but reads no data at all.
      assert.doesNotMatch(task, /--allow-net|--allow-write/, "plan only reads");
      continue;
    }
    assert.ok(task, `deno.json has a task for ${entry.name}`);
    assert.match(task, /--allow-net(\s|$)/, `task ${entry.name} fetches from --mirror URLs`);
    checked++;
  }
  assert.equal(checked, 3, "download, train and reproduce");
});

Deno.test("without network permission a download fails at once, saying so, instead of retrying", async () => {
  const dir = await Deno.makeTempDir();
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      ...runMainWithoutNet(),
      "download",
      "mnist",
      "--mirror",
      "http://127.0.0.1:9/",
      "--data-dir",
      dir,
      "--quiet",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 1, text);
  assert.match(text, /may not use the network .*run the command through its deno task/);
  assert.doesNotMatch(text, /retry/);
  await Deno.remove(dir, { recursive: true });
});
