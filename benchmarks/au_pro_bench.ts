/**
 * AU-PRO at MVTec scale: 100 anomaly maps of 1024×1024 float32 (10⁸ pixels, 420 MB of scores), half of
 * them with elliptic defects; the target is ≤ 3 s and ≤ 2 GB peak on 2 cores (the official Python script
 * needs 15–18 s and 4.3 GB).
 *
 * - `deno task bench` runs it as a `deno bench` case (and a pixel AUROC case) at that size.
 * - `deno run benchmarks/au_pro_bench.ts [IMAGES] [SIZE]` (script mode) prints seconds and resident memory
 *   as one line of JSON; run it under `/usr/bin/time -v` for the process's peak RSS.
 *
 * @module
 */
import process from "node:process";
import { auPro, pixelAuroc } from "../src/metrics/mod.ts";
import type { MaskMap, ScoreMap } from "../src/metrics/mod.ts";
import { syntheticSet } from "./synthetic_maps.ts";

const IMAGES = 100, SIZE = 1024;

/** Measures one call in the current process: seconds, and RSS before/after (peak sampled right after). */
function measure(images: number, size: number) {
  const set = syntheticSet(images, size);
  const rssBefore = Deno.memoryUsage().rss;
  // CPU time (user + system) beside wall time: the machine may be shared, the computation is one thread.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const result = auPro(set.maps, set.masks);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rssAfter = Deno.memoryUsage().rss;
  const t1 = performance.now();
  const pix = pixelAuroc(set.maps, set.masks);
  const pixSeconds = (performance.now() - t1) / 1000;
  return {
    images,
    size,
    pixels: images * size * size,
    au_pro: result.auPro,
    n_regions: result.nRegions,
    n_ok_pixels: result.nOkPixels,
    curve_points: result.nCurvePoints,
    au_pro_seconds: seconds,
    au_pro_cpu_seconds: (cpu.user + cpu.system) / 1e6,
    rss_before_au_pro_mb: Math.round(rssBefore / 2 ** 20),
    rss_after_au_pro_mb: Math.round(rssAfter / 2 ** 20),
    pixel_auroc: pix,
    pixel_auroc_seconds: pixSeconds,
    rss_end_mb: Math.round(Deno.memoryUsage().rss / 2 ** 20),
  };
}

if (import.meta.main) {
  // Script mode. For the true peak, run under `/usr/bin/time -v` (maximum resident set size).
  const images = Number(Deno.args[0] ?? IMAGES), size = Number(Deno.args[1] ?? SIZE);
  console.log(JSON.stringify(measure(images, size)));
} else {
  let cached: { maps: ScoreMap[]; masks: MaskMap[] } | undefined;
  const data = () => (cached ??= syntheticSet(IMAGES, SIZE));
  console.log(
    `au_pro_bench: ${IMAGES} maps × ${SIZE}×${SIZE} float32 = ${IMAGES * SIZE * SIZE} pixels (${
      (IMAGES * SIZE * SIZE * 4 / 2 ** 20).toFixed(0)
    } MiB of scores), half with defects`,
  );
  Deno.bench({
    name: `auPro, ${IMAGES}×${SIZE}² float32, limit 0.3`,
    n: 3,
    warmup: 1,
    fn(b) {
      const { maps, masks } = data();
      b.start();
      auPro(maps, masks);
      b.end();
    },
  });
  Deno.bench({
    name: `pixelAuroc, ${IMAGES}×${SIZE}² float32`,
    n: 3,
    warmup: 1,
    fn(b) {
      const { maps, masks } = data();
      b.start();
      pixelAuroc(maps, masks);
      b.end();
    },
  });
}
