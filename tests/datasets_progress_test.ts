import assert from "node:assert/strict";
import { formatBytes, LineProgress, type ProgressSink } from "../src/datasets/progress.ts";

Deno.test("byte counts are formatted with SI units", () => {
  assert.equal(formatBytes(999), "999 B");
  assert.equal(formatBytes(26_421_856), "26.4 MB");
  assert.equal(formatBytes(4_900_000_000), "4.9 GB");
  assert.equal(formatBytes(123_456), "123 kB");
});

Deno.test("without a terminal, progress is one line per finished file", () => {
  const lines: string[] = [];
  const progress: ProgressSink = new LineProgress((line) => lines.push(line));
  progress.start("a.gz", 10, 0);
  progress.update(5);
  progress.update(10);
  progress.end("a.gz: 10 B in 0.1 s");
  assert.deepEqual(lines, ["a.gz: 10 B in 0.1 s"]);
});
