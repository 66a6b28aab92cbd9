import assert from "node:assert/strict";
import { canonicalJson, canonicalJsonSha256 } from "../src/util/canonical_json.ts";
import { pathExists } from "../src/util/fs.ts";

Deno.test("canonicalJson sorts keys at every level and drops undefined members", () => {
  assert.equal(
    canonicalJson({ b: 1, a: [{ d: 2, c: undefined, b: null }] }),
    '{"a":[{"b":null,"d":2}],"b":1}',
  );
});

Deno.test("canonicalJsonSha256 ignores key order but not values", () => {
  assert.equal(canonicalJsonSha256({ x: 1, y: 2 }), canonicalJsonSha256({ y: 2, x: 1 }));
  assert.notEqual(canonicalJsonSha256({ x: 1 }), canonicalJsonSha256({ x: 2 }));
  assert.match(canonicalJsonSha256({}), /^[0-9a-f]{64}$/);
});

Deno.test("pathExists tells present from missing paths", async () => {
  const dir = await Deno.makeTempDir();
  try {
    assert.equal(await pathExists(dir), true);
    assert.equal(await pathExists(`${dir}/missing`), false);
  } finally {
    await Deno.remove(dir);
  }
});

Deno.test("generated outputs under reports/ and data/ are ignored by git", async () => {
  const paths = [
    "reports/tables/synthetic.md",
    "reports/leaderboard.md",
    "reports/report.md",
    "reports/runs/x/result.json",
    "reports/checkpoints/x/last.ckpt",
    "data/synthetic/x.png",
  ];
  const root = new URL("..", import.meta.url).pathname;
  const out = await new Deno.Command("git", { args: ["check-ignore", "--no-index", ...paths], cwd: root })
    .output();
  const ignored = new TextDecoder().decode(out.stdout).trim().split("\n");
  assert.deepEqual(ignored, paths);
});
