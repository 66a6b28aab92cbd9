/**
 * Test-only writer for single-channel float32 and float64 TIFF files (uncompressed, one strip,
 * little-endian): the format of the official MVTec AD evaluation's anomaly maps. sharp writes TIFF only as
 * 8/16-bit, so the tests that feed `evaluate` float maps build them here.
 *
 * @module
 */

/** Encodes a width×height float32 image (row-major) as a baseline TIFF with SampleFormat = IEEE float. */
export function encodeFloat32Tiff(width: number, height: number, data: Float32Array): Uint8Array {
  return encodeFloatTiff(width, height, data);
}

/** Layout options of {@linkcode encodeFloatTiff}. */
export interface FloatTiffLayout {
  /** Rows per strip (several strips when < height). Default: one strip. */
  rowsPerStrip?: number;
  /** Write a big-endian ("MM") file. Default little-endian ("II"). */
  bigEndian?: boolean;
}

/** Encodes a float32 or float64 image (row-major) as a baseline TIFF with SampleFormat = IEEE float. */
export function encodeFloatTiff(
  width: number,
  height: number,
  data: Float32Array | Float64Array,
  { rowsPerStrip = height, bigEndian = false }: FloatTiffLayout = {},
): Uint8Array {
  if (data.length !== width * height) throw new Error("encodeFloatTiff: data length != width*height");
  const bytesPer = data instanceof Float64Array ? 8 : 4;
  const le = !bigEndian;
  const strips = Math.ceil(height / rowsPerStrip);
  const stripBytes = Array.from(
    { length: strips },
    (_, s) => Math.min(rowsPerStrip, height - s * rowsPerStrip) * width * bytesPer,
  );
  const tags: [number, number, number][] = [ // [tag, type (3 SHORT, 4 LONG), value]
    [256, 4, width],
    [257, 4, height],
    [258, 3, bytesPer * 8], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // Photometric: BlackIsZero
    [273, 4, 0], // StripOffsets (patched below)
    [277, 3, 1], // SamplesPerPixel
    [278, 4, rowsPerStrip], // RowsPerStrip
    [279, 4, 0], // StripByteCounts (patched below)
    [284, 3, 1], // PlanarConfiguration: chunky
    [339, 3, 3], // SampleFormat: IEEE floating point
  ];
  const ifdOffset = 8;
  const ifdSize = 2 + tags.length * 12 + 4;
  // With several strips, the offset and count tags point at arrays of LONGs after the IFD.
  const arrays = strips > 1 ? 8 * strips : 0;
  const pixelOffset = ifdOffset + ifdSize + arrays;
  const bytes = new Uint8Array(pixelOffset + data.length * bytesPer);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, le ? 0x49 : 0x4d);
  view.setUint8(1, le ? 0x49 : 0x4d);
  view.setUint16(2, 42, le);
  view.setUint32(4, ifdOffset, le);
  if (strips > 1) {
    const offsetsAt = ifdOffset + ifdSize, countsAt = offsetsAt + 4 * strips;
    for (let s = 0, at = pixelOffset; s < strips; at += stripBytes[s], s++) {
      view.setUint32(offsetsAt + 4 * s, at, le);
      view.setUint32(countsAt + 4 * s, stripBytes[s], le);
    }
    tags[5][2] = offsetsAt;
    tags[8][2] = countsAt;
  } else {
    tags[5][2] = pixelOffset;
    tags[8][2] = stripBytes[0];
  }
  view.setUint16(ifdOffset, tags.length, le);
  tags.forEach(([tag, type, value], i) => {
    const at = ifdOffset + 2 + i * 12;
    view.setUint16(at, tag, le);
    view.setUint16(at + 2, type, le);
    view.setUint32(at + 4, (tag === 273 || tag === 279) ? strips : 1, le);
    if (type === 3) view.setUint16(at + 8, value, le);
    else view.setUint32(at + 8, value, le);
  });
  view.setUint32(ifdOffset + 2 + tags.length * 12, 0, le);
  for (let i = 0; i < data.length; i++) {
    if (bytesPer === 8) view.setFloat64(pixelOffset + i * 8, data[i], le);
    else view.setFloat32(pixelOffset + i * 4, data[i], le);
  }
  return bytes;
}
