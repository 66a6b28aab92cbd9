import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { main } from "../main.ts";

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
  const args = [
    "train",
    "--dataset",
    "synthetic",
    "--category",
    "disc",
    "--model",
    "ae-mse",
    "--config",
    "smoke",
  ];
  const { code, stdout } = await capture(() =>
    main([
      ...args,
      "--seed",
      "4",
      "--backend",
      "cpu",
      "--set",
      "epochs=1",
      "--out",
      out,
      "--data-dir",
      `${out}/data`,
    ])
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
  assert.match(unknownDataset.stderr, /--dataset: expected one of mvtec, btad/);
});

Deno.test("SIGINT stops train between steps with exit 130 and a --resume hint", async () => {
  const out = await Deno.makeTempDir();
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-write",
      "--allow-env",
      "--allow-ffi",
      "--allow-sys",
      fileURLToPath(new URL("../main.ts", import.meta.url)),
      "train",
      "--dataset",
      "synthetic",
      "--category",
      "disc",
      "--config",
      "smoke",
      "--backend",
      "cpu",
      "--set",
      "epochs=50",
      "--out",
      out,
      "--data-dir",
      `${out}/data`,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  for (let waited = 0; waited < 120_000; waited += 20) {
    try {
      await Deno.stat(`${out}/checkpoints/last.ckpt`);
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  child.kill("SIGINT");
  const { code, stderr } = await child.output();
  assert.equal(code, 130);
  assert.match(new TextDecoder().decode(stderr), /interrupted: rerun with --resume/);
  await Deno.remove(out, { recursive: true });
});
