import { beforeAll, describe, expect, it } from 'vitest';
import { encodeH264ParameterSets } from './h264-test-stream.ts';
import { pictureSizeFromSps } from './sps-picture-size.ts';

let sps320x240: Uint8Array;
let sps640x360: Uint8Array;

beforeAll(() => {
  sps320x240 = encodeH264ParameterSets({ width: 320, height: 240 }).sps;
  // 360 is not a multiple of 16: the SPS carries frame cropping.
  sps640x360 = encodeH264ParameterSets({ width: 640, height: 360 }).sps;
});

describe('pictureSizeFromSps', () => {
  it('reads 320x240 from a real x264 SPS', () => {
    expect(pictureSizeFromSps(sps320x240)).toEqual({ width: 320, height: 240 });
  });

  it('applies frame cropping: 640x368 coded, 640x360 shown', () => {
    expect(pictureSizeFromSps(sps640x360)).toEqual({ width: 640, height: 360 });
  });

  it('answers undefined for bytes that are not an SPS', () => {
    expect(pictureSizeFromSps(new Uint8Array())).toBeUndefined();
    expect(pictureSizeFromSps(sps320x240.subarray(0, 4))).toBeUndefined();
    expect(pictureSizeFromSps(new Uint8Array([0x68, 0xce, 0x38, 0x80, 0, 0, 0, 0, 0]))).toBeUndefined(); // a PPS
  });
});
