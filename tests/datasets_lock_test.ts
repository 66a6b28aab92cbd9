import assert from "node:assert/strict";
import { join } from "node:path";
import { loadLock, lockDigest, LockError, parseLock } from "../src/datasets/lock.ts";
import { syntheticCounts } from "../src/datasets/synthetic.ts";
import { DATASET_NAMES, DATASETS } from "../src/core/datasets.ts";

const text = await Deno.readTextFile("datasets.lock.json");
const fresh = () => JSON.parse(text);

Deno.test("the repository's lock validates and has every dataset with its pinned hashes", async () => {
  const lock = await loadLock();
  for (const name of DATASET_NAMES) assert.ok(lock.datasets[name], name);
  assert.equal(
    lock.datasets.mvtec.files[0].accept[0].sha256,
    "cf4313b13603bec67abb49ca959488f7eedce2a9f7795ec54446c649ac98cd3d",
  );
  assert.equal(
    lock.datasets.btad.files[0].accept[0].sha256,
    "461c9387e515bfed41ecaae07c50cf6b10def647b36c9e31d239ab2736b10d2a",
  );
  assert.equal(lock.datasets.mnist.files.length, 4);
  assert.ok(lock.datasets["fashion-mnist"].files.every((f) => f.accept.length === 2 && f.content));
  assert.equal(lock.datasets.mvtec.licence.requiresAcceptance, true);
  const mvtec = lock.datasets.mvtec.layout;
  assert.equal(mvtec.kind, "categories");
  if (mvtec.kind === "categories") {
    const total = Object.values(mvtec.categories).reduce((a, c) => a + c.trainGood, 0);
    assert.equal(total, 3629);
  }
  const synthetic = lock.datasets.synthetic.layout;
  assert.ok(synthetic.kind === "categories");
  assert.deepEqual(Object.keys(synthetic.categories).sort(), Object.keys(syntheticCounts()).sort());
  assert.deepEqual(synthetic.categories, syntheticCounts());
});

Deno.test("a wrong or missing field is an error naming the entry and the field", () => {
  const noHash = fresh();
  delete noHash.datasets.mnist.files[1].accept[0].md5;
  assert.throws(
    () => parseLock(noHash, "L"),
    (e: Error) =>
      e instanceof LockError &&
      /L: entry "mnist": files\.1\.accept\.0: needs a sha256 or an md5/.test(e.message),
  );
  const badSha = fresh();
  badSha.datasets.btad.files[0].accept[0].sha256 = "461C";
  assert.throws(
    () => parseLock(badSha, "L"),
    /entry "btad": files\.0\.accept\.0\.sha256: expected 64 lowercase hex/,
  );
  const badArchive = fresh();
  badArchive.datasets.mvtec.files[0].archive = "rar";
  assert.throws(() => parseLock(badArchive, "L"), /entry "mvtec": files\.0\.archive/);
  const missing = fresh();
  delete missing.datasets["fashion-mnist"];
  assert.throws(() => parseLock(missing, "L"), /entry "fashion-mnist" is missing/);
  const noLicence = fresh();
  delete noLicence.datasets.synthetic.licence;
  assert.throws(() => parseLock(noLicence, "L"), /entry "synthetic": licence/);
});

Deno.test("loadLock names the path when the file is absent or not JSON", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(loadLock(join(dir, "nope.json")), /cannot read lock file .*nope\.json.*--lock/);
    await Deno.writeTextFile(join(dir, "bad.json"), "{");
    await assert.rejects(loadLock(join(dir, "bad.json")), /bad\.json: not valid JSON/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("lockDigest depends only on that entry's content, not on key order", () => {
  const a = parseLock(fresh());
  const reordered = fresh();
  const mnist = reordered.datasets.mnist;
  reordered.datasets.mnist = Object.fromEntries(Object.entries(mnist).reverse());
  const b = parseLock(reordered);
  assert.equal(lockDigest(a, "mnist"), lockDigest(b, "mnist"));
  assert.match(lockDigest(a, "mnist"), /^[0-9a-f]{64}$/);
  const changed = fresh();
  changed.datasets.mnist.files[0].mirrors.push("https://mirror.example/mnist/train-images-idx3-ubyte.gz");
  const c = parseLock(changed);
  assert.notEqual(lockDigest(a, "mnist"), lockDigest(c, "mnist"));
  assert.equal(lockDigest(a, "btad"), lockDigest(c, "btad"));
  assert.throws(() => lockDigest(a, "imagenet"), /no entry "imagenet"/);
});

Deno.test("the lock and the registry agree on every dataset's folders, extensions and categories", async () => {
  const lock = await loadLock();
  for (const name of DATASET_NAMES) {
    const spec = DATASETS[name];
    const layout = lock.datasets[name].layout;
    assert.equal(layout.kind === "idx" ? "idx" : "folders", spec.storage.kind, name);
    if (layout.kind !== "categories" || spec.storage.kind !== "folders") continue;
    assert.equal(layout.normalFolder, spec.storage.normalFolder, name);
    assert.deepEqual([...layout.imageExtensions].sort(), [...spec.storage.imageExtensions].sort(), name);
    assert.deepEqual(Object.keys(layout.categories).sort(), [...spec.categories].sort(), name);
  }
});
