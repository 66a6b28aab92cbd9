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

/** Encodes a float32 or float64 image (row-major) as a baseline TIFF with SampleFormat = IEEE float. */
export function encodeFloatTiff(
  width: number,
  height: number,
  data: Float32Array | Float64Array,
): Uint8Array {
  if (data.length !== width * height) throw new Error("encodeFloatTiff: data length != width*height");
  const bytesPer = data instanceof Float64Array ? 8 : 4;
  const tags: [number, number, number][] = [ // [tag, type (3 SHORT, 4 LONG), value]
    [256, 4, width],
    [257, 4, height],
    [258, 3, bytesPer * 8], // BitsPerSample
    [259, 3, 1], // Compression: none
    [262, 3, 1], // Photometric: BlackIsZero
    [273, 4, 0], // StripOffsets (patched below)
    [277, 3, 1], // SamplesPerPixel
    [278, 4, height], // RowsPerStrip
    [279, 4, data.length * bytesPer], // StripByteCounts
    [284, 3, 1], // PlanarConfiguration: chunky
    [339, 3, 3], // SampleFormat: IEEE floating point
  ];
  const ifdOffset = 8;
  const ifdSize = 2 + tags.length * 12 + 4;
  const pixelOffset = ifdOffset + ifdSize;
  tags[5][2] = pixelOffset;
  const bytes = new Uint8Array(pixelOffset + data.length * bytesPer);
  const view = new DataView(bytes.buffer);
  view.setUint8(0, 0x49);
  view.setUint8(1, 0x49);
  view.setUint16(2, 42, true);
  view.setUint32(4, ifdOffset, true);
  view.setUint16(ifdOffset, tags.length, true);
  tags.forEach(([tag, type, value], i) => {
    const at = ifdOffset + 2 + i * 12;
    view.setUint16(at, tag, true);
    view.setUint16(at + 2, type, true);
    view.setUint32(at + 4, 1, true);
    if (type === 3) view.setUint16(at + 8, value, true);
    else view.setUint32(at + 8, value, true);
  });
  view.setUint32(ifdOffset + 2 + tags.length * 12, 0, true);
  for (let i = 0; i < data.length; i++) {
    if (bytesPer === 8) view.setFloat64(pixelOffset + i * 8, data[i], true);
    else view.setFloat32(pixelOffset + i * 4, data[i], true);
  }
  return bytes;
}
