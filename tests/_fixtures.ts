/** Fixture builders shared by the dataset tests: IDX and BMP bytes written by hand. */

/** Builds an IDX file by hand: magic, big-endian dims, data. */
export function idxBytes(magic: number, dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, magic, false);
  dims.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}

/**
 * Builds a bottom-up BMP (BITMAPINFOHEADER) by hand. `rgb` rows are given top to bottom. With `palette`
 * (RGB triples) the image is 8-bit indexed and `rgb` holds one palette index per pixel.
 */
export function bmpBytes(width: number, height: number, rgb: number[], palette?: number[][]): Uint8Array {
  const bpp = palette ? 8 : 24;
  const rowBytes = Math.ceil((width * bpp) / 32) * 4;
  const paletteBytes = palette ? palette.length * 4 : 0;
  const offset = 14 + 40 + paletteBytes;
  const size = offset + rowBytes * height;
  const out = new Uint8Array(size);
  const v = new DataView(out.buffer);
  out[0] = 0x42;
  out[1] = 0x4d;
  v.setUint32(2, size, true);
  v.setUint32(10, offset, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, width, true);
  v.setInt32(22, height, true);
  v.setUint16(26, 1, true);
  v.setUint16(28, bpp, true);
  v.setUint32(30, 0, true);
  v.setUint32(34, rowBytes * height, true);
  v.setUint32(46, palette ? palette.length : 0, true);
  palette?.forEach(([r, g, b], i) => out.set([b, g, r, 0], 54 + 4 * i));
  for (let y = 0; y < height; y++) {
    const row = offset + (height - 1 - y) * rowBytes; // bottom-up
    for (let x = 0; x < width; x++) {
      if (palette) out[row + x] = rgb[y * width + x];
      else {
        const i = (y * width + x) * 3;
        out.set([rgb[i + 2], rgb[i + 1], rgb[i]], row + x * 3);
      }
    }
  }
  return out;
}
