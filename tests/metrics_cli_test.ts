import assert from "node:assert/strict";
import { join } from "node:path";
import { computeMetrics } from "../src/cli/metrics.ts";
import { captureMain } from "./helpers/capture.ts";

Deno.test("metrics prints one JSON object with every key, full-precision floats", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const file = join(dir, "in.json");
    await Deno.writeTextFile(
      file,
      JSON.stringify({
        scores: [0.1, 0.4, 0.35, 0.8],
        labels: [0, 0, 1, 1],
        // One 2×2 map: the defect (0.9) outranks the normals → pixel AUROC 1, AU-PRO 1.
        maps: [[[0.9, 0.1], [0.2, 0.3]]],
        masks: [[[255, 0], [0, 0]]],
      }),
    );
    const { code, stdout } = await captureMain(["metrics", file]);
    assert.equal(code, 0);
    const out = JSON.parse(stdout);
    // sklearn doc example: AUROC 3/4, AP 5/6, trapezoid 19/24 (derivations in metrics_image_test.ts).
    assert.equal(out.auroc, 0.75);
    assert.equal(out.average_precision, 0.8333333333333333);
    assert.equal(out.pr_auc, 0.7916666666666666);
    assert.equal(out.pixel_auroc, 1);
    assert.equal(out.au_pro, 1);
    assert.equal(out.n_regions, 1);
    assert.equal(out.n_ok_pixels, 3);
    assert.equal(out.integration_limit, 0.3);
    assert.equal(out.fpr_mode, "float32");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("parts missing from the input are null", () => {
  const imageOnly = computeMetrics({ scores: [1, 2], labels: [0, 1] });
  assert.equal(imageOnly.auroc, 1);
  assert.equal(imageOnly.au_pro, null);
  assert.equal(imageOnly.pixel_auroc, null);
  assert.equal(imageOnly.n_regions, null);
  const pixelOnly = computeMetrics({ maps: [[[0.5, 0.1]]], masks: [[[1, 0]]], integration_limit: 1 });
  assert.equal(pixelOnly.auroc, null);
  assert.equal(pixelOnly.au_pro, 1);
  assert.equal(pixelOnly.integration_limit, 1);
});

Deno.test("defect-free maps give the flagged degenerate AU-PRO and a null pixel AUROC", () => {
  const out = computeMetrics({ maps: [[[0.5, 0.1]]], masks: [[[0, 0]]] });
  assert.equal(out.au_pro_degenerate, true);
  assert.ok(Math.abs(out.au_pro! - 0.15) < 1e-15);
  assert.equal(out.pixel_auroc, null);
  assert.equal(out.warnings.length, 2);
});

Deno.test("malformed input is a one-line error naming the problem", async () => {
  assert.throws(
    () => computeMetrics({ maps: [[[0.5, 0.1], [0.2]]], masks: [[[1, 0], [0, 0]]] }),
    /maps\[0\]: row 1/,
  );
  assert.throws(() => computeMetrics({ scores: [1, 2] }), /"scores" and "labels" must both be arrays/);
  assert.throws(() => computeMetrics([]), /expected a JSON object/);
  assert.throws(() => computeMetrics({ scores: [1, 2], labels: [1, 1] }), /all 2 labels are 1/);
  // JSON has no NaN, but 1e999 parses to Infinity: named by image and pixel.
  assert.throws(
    () => computeMetrics(JSON.parse('{"maps": [[[0.5, 1e999]]], "masks": [[[1, 0]]]}')),
    /anomaly map 0: score at pixel 1 \(row 0, column 1\) is Infinity/,
  );
  const { code, stderr } = await captureMain(["metrics", "/nonexistent/in.json"]);
  assert.equal(code, 1);
  assert.match(stderr, /^error: \/nonexistent\/in\.json: cannot read/);
  const bad = await captureMain(["metrics", "x.json", "--fpr-mode", "float16"]);
  assert.equal(bad.code, 2);
});
