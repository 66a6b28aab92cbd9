import assert from "node:assert/strict";
import {
  averagePrecision,
  prAucTrapezoid,
  precisionRecallCurve,
  rocAuc,
  rocCurve,
} from "../src/metrics/mod.ts";

// sklearn's documented example: scores [0.1, 0.4, 0.35, 0.8], labels [0, 0, 1, 1].
const S = [0.1, 0.4, 0.35, 0.8], Y = [0, 0, 1, 1];

Deno.test("rocAuc counts pairs: 3 of 4 positive–negative pairs are ordered correctly", () => {
  // (0.8 > 0.1), (0.8 > 0.4), (0.35 > 0.1), (0.35 < 0.4) → 3/4.
  assert.equal(rocAuc(S, Y), 0.75);
});

Deno.test("rocAuc counts a tie between classes as one half", () => {
  // pos {0.5, 0.9}, neg {0.5, 0.1}: 0.5=0.5 (½), 0.5>0.1, 0.9>0.5, 0.9>0.1 → 3.5/4.
  assert.equal(rocAuc([0.5, 0.9, 0.5, 0.1], [1, 1, 0, 0]), 0.875);
});

Deno.test("rocCurve has one point per distinct threshold after (0, 0)", () => {
  const { fpr, tpr, thresholds } = rocCurve(S, Y);
  // Descending thresholds 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg).
  assert.deepEqual(Array.from(thresholds), [Infinity, 0.8, 0.4, 0.35, 0.1]);
  assert.deepEqual(Array.from(tpr), [0, 0.5, 0.5, 1, 1]);
  assert.deepEqual(Array.from(fpr), [0, 0, 0.5, 0.5, 1]);
});

Deno.test("precisionRecallCurve follows sklearn's order and ends at (recall 0, precision 1)", () => {
  const { precision, recall, thresholds } = precisionRecallCurve(S, Y);
  // Ascending thresholds 0.1, 0.35, 0.4, 0.8: (tp, fp) = (2,2), (2,1), (1,1), (1,0).
  assert.deepEqual(Array.from(thresholds), [0.1, 0.35, 0.4, 0.8]);
  assert.deepEqual(Array.from(recall), [1, 1, 0.5, 0.5, 0]);
  assert.deepEqual(Array.from(precision), [0.5, 2 / 3, 0.5, 1, 1]);
});

Deno.test("averagePrecision is the step sum Σ (Rn − Rn−1)·Pn, not the trapezoid", () => {
  // Steps: recall 0 → ½ at P = 1, ½ → ½ (P ½), ½ → 1 at P = ⅔: AP = ½ + ⅓ = 5/6.
  assert.ok(Math.abs(averagePrecision(S, Y) - 5 / 6) < 1e-15);
  // Trapezoid from (0, 1): ½·(1+1)/2 + ½·(½+⅔)/2 = ½ + 7/24 = 19/24.
  assert.ok(Math.abs(prAucTrapezoid(S, Y) - 19 / 24) < 1e-15);
});

Deno.test("a tie group forms one step: AP ½ but trapezoid PR-AUC ¾", () => {
  // One threshold with R = 1, P = ½. AP = 1·½. Trapezoid (0,1)→(1,½) = (1 + ½)/2.
  assert.equal(averagePrecision([0.5, 0.5], [0, 1]), 0.5);
  assert.equal(prAucTrapezoid([0.5, 0.5], [0, 1]), 0.75);
});

Deno.test("perfect and inverted rankings give 1 and 0 (AP of an inverted ranking is the base rate)", () => {
  assert.equal(rocAuc([0.9, 0.8, 0.1], [1, 1, 0]), 1);
  assert.equal(rocAuc([0.1, 0.2, 0.9], [1, 1, 0]), 0);
  // Inverted: negatives first. Thresholds 0.9 (neg) → (0, 0), 0.2 → (½, ½), 0.1 → (1, ⅔). AP = ½·½ + ½·⅔.
  assert.ok(Math.abs(averagePrecision([0.1, 0.2, 0.9], [1, 1, 0]) - (0.25 + 1 / 3)) < 1e-15);
});

Deno.test("one-class labels are an error, never NaN", () => {
  assert.throws(() => rocAuc([1, 2], [1, 1]), /all 2 labels are 1 \(anomalous\).*undefined/);
  assert.throws(() => averagePrecision([1, 2], [0, 0]), /all 2 labels are 0 \(normal\)/);
  assert.throws(() => prAucTrapezoid([], []), /all 0 labels/);
});

Deno.test("bad scores and labels are named by index", () => {
  assert.throws(() => rocAuc([0.5, Infinity], [0, 1]), /score 1 is Infinity/);
  assert.throws(() => rocAuc([0.5, 0.7], [0, 0.5]), /label 1 is 0.5; labels must be 0/);
  assert.throws(() => rocAuc([0.5], [0, 1]), /1 scores but 2 labels/);
});
