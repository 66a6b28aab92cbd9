/**
 * Test fixture: a split of smooth random images with bright-square defects, generated in memory so that
 * trainer tests need no data layer.
 */
import type { CategorySplit, ImageSample } from "../../src/datasets/types.ts";
import { RandomStream } from "../../src/util/rng.ts";

/**
 * STUB: a split of smooth random images (8 train, 4 test: 2 normal, 2 with a bright square), seeded by
 * the category name. Only for exercising `train` before the data layer is merged.
 */
export function syntheticNoiseSplit(category: string, size: number, trainCount = 8): CategorySplit {
  let seed = 0;
  for (const ch of category) seed = (seed * 31 + ch.charCodeAt(0)) | 0;
  const rng = RandomStream.derive(seed, "init");
  const image = (path: string, label: 0 | 1): ImageSample => {
    const pixels = new Uint8Array(size * size * 3);
    const base = [rng.uniform(), rng.uniform(), rng.uniform()];
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        for (let c = 0; c < 3; c++) {
          const wave = 0.5 + 0.25 * Math.sin((x + 3 * c) / 3) * Math.cos(y / 4);
          pixels[(y * size + x) * 3 + c] = Math.round(255 * Math.min(1, 0.5 * base[c] + 0.5 * wave));
        }
      }
    }
    let mask: Uint8Array | null = null;
    if (label === 1) {
      mask = new Uint8Array(size * size);
      const s = Math.max(2, Math.floor(size / 6));
      const x0 = Math.floor(rng.uniform() * (size - s));
      const y0 = Math.floor(rng.uniform() * (size - s));
      for (let y = y0; y < y0 + s; y++) {
        for (let x = x0; x < x0 + s; x++) {
          mask[y * size + x] = 1;
          pixels.fill(255, (y * size + x) * 3, (y * size + x) * 3 + 3);
        }
      }
    }
    return {
      path,
      label,
      defectType: label ? "square" : "good",
      width: size,
      height: size,
      channels: 3,
      pixels,
      mask,
      maskPath: mask ? path.replace("/test/", "/ground_truth/") : null,
    };
  };
  const train = Array.from({ length: trainCount }, (_, i) => image(`${category}/train/good/${i}.png`, 0));
  const test = [
    image(`${category}/test/good/0.png`, 0),
    image(`${category}/test/good/1.png`, 0),
    image(`${category}/test/square/0.png`, 1),
    image(`${category}/test/square/1.png`, 1),
  ];
  return { dataset: "noise-fixture", category, train, test };
}
