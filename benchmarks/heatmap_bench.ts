/**
 * Heat-map cost per test image at the `code` config's size: 8×8 patch NLL → 512² (align corners) →
 * Gaussian σ = 4 (radius 16, separable), and mapping a 512² map back to a 1024² original.
 */
import { patchHeatmap } from "../src/eval/heatmap.ts";
import { mapToOriginal } from "../src/eval/original_resolution.ts";

const grid = Float32Array.from({ length: 64 }, (_, i) => 400 + ((i * 37) % 64) * 10);
const map512 = { width: 512, height: 512, data: patchHeatmap(grid, 8, 512, 512) };

Deno.bench("patchHeatmap 8×8 → 512², σ=4", () => {
  patchHeatmap(grid, 8, 512, 512);
});

Deno.bench("patchHeatmap 8×8 → 512², σ=0 (paper variant)", () => {
  patchHeatmap(grid, 8, 512, 512, { sigma: 0 });
});

Deno.bench("mapToOriginal 512² (550 → crop 512) → 1024²", () => {
  mapToOriginal(map512, { resize: 550, crop: 512 }, 1024, 1024);
});
