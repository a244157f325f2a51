import { beforeAll, describe, expect, it } from 'vitest';
import { FlvMediaProbe } from './flv-media-probe.ts';
import { encodeH264ParameterSets } from './h264-test-stream.ts';
import { pictureSizeFromSps } from './sps-picture-size.ts';

const AUDIO = 8;
const VIDEO = 9;
const SCRIPT = 18;

/** One whole FLV tag: 11-byte header (stream id 0), body, 4-byte previous-tag size. */
function flvTag(type: number, body: number[] | Uint8Array, timestamp = 0): Uint8Array {
  const size = body.length;
  const tag = new Uint8Array(11 + size + 4);
  const view = new DataView(tag.buffer);
  tag[0] = type;
  tag[1] = (size >> 16) & 0xff;
  tag[2] = (size >> 8) & 0xff;
  tag[3] = size & 0xff;
  tag[4] = (timestamp >> 16) & 0xff;
  tag[5] = (timestamp >> 8) & 0xff;
  tag[6] = timestamp & 0xff;
  tag[7] = (timestamp >> 24) & 0xff; // TimestampExtended
  // bytes 8..10: StreamID, always 0
  tag.set(body, 11);
  view.setUint32(11 + size, 11 + size);
  return tag;
}

/** The 13 bytes before the first tag: 'FLV', version 1, audio+video flags, header size 9, PreviousTagSize0. */
const FLV_FILE_HEADER = new Uint8Array([0x46, 0x4c, 0x56, 0x01, 0x05, 0x00, 0x00, 0x00, 0x09, 0x00, 0x00, 0x00, 0x00]);

/** AVC sequence header: keyframe + codec 7, AVCPacketType 0, composition time 0, AVCDecoderConfigurationRecord. */
function avcSequenceHeader(sps: Uint8Array, pps: Uint8Array): Uint8Array {
  return new Uint8Array([
    0x17, 0x00, 0x00, 0x00, 0x00,
    0x01, sps[1]!, sps[2]!, sps[3]!, 0xff, // version, profile, compatibility, level, lengthSizeMinusOne = 3
    0xe1, sps.length >> 8, sps.length & 0xff, ...sps, // one SPS
    0x01, pps.length >> 8, pps.length & 0xff, ...pps, // one PPS
  ]);
}

/** Enhanced RTMP video: IsExHeader | keyframe | PacketType SequenceStart, then the FourCC. */
function enhancedVideo(fourcc: string): Uint8Array {
  return new Uint8Array([0x90, ...[...fourcc].map((c) => c.charCodeAt(0)), 0x01, 0x02, 0x03]);
}

const AAC_SEQUENCE_HEADER = [0xaf, 0x00, 0x12, 0x10]; // AAC, 44.1 kHz, 16-bit, stereo; AudioSpecificConfig LC 44.1k stereo
const MP3_FRAME = [0x2f, 0xff, 0xfb, 0x90, 0x64];

// AMF0 writers for the onMetaData body.
const enc = new TextEncoder();
const amfKey = (s: string) => [(enc.encode(s).length >> 8) & 0xff, enc.encode(s).length & 0xff, ...enc.encode(s)];
const amfString = (s: string) => [0x02, ...amfKey(s)];
function amfNumber(n: number): number[] {
  const b = new Uint8Array(9);
  b[0] = 0x00;
  new DataView(b.buffer).setFloat64(1, n);
  return [...b];
}
const amfBoolean = (v: boolean) => [0x01, v ? 1 : 0];

function onMetaData(props: [string, number[]][], opts: { setDataFrame?: boolean; container?: 'ecma' | 'object' } = {}): Uint8Array {
  const head = opts.setDataFrame === false ? [] : amfString('@setDataFrame');
  const container = opts.container === 'object' ? [0x03] : [0x08, 0x00, 0x00, 0x00, props.length];
  const body = props.flatMap(([k, v]) => [...amfKey(k), ...v]);
  return new Uint8Array([...head, ...amfString('onMetaData'), ...container, ...body, 0x00, 0x00, 0x09]);
}

let sps: Uint8Array;
let pps: Uint8Array;

beforeAll(() => {
  ({ sps, pps } = encodeH264ParameterSets({ width: 320, height: 240 }));
});

describe('FlvMediaProbe', () => {
  it('reports none for everything before any tag', () => {
    const probe = new FlvMediaProbe();
    expect(probe.complete).toBe(false);
    expect(probe.result()).toEqual({ videoCodec: 'none', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('ignores the 13-byte FLV file header', () => {
    const probe = new FlvMediaProbe();
    probe.push(FLV_FILE_HEADER);
    expect(probe.result()).toEqual({ videoCodec: 'none', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('reads H.264 and its SPS from an AVC sequence header', () => {
    const probe = new FlvMediaProbe();
    probe.push(FLV_FILE_HEADER);
    probe.push(flvTag(VIDEO, avcSequenceHeader(sps, pps)));

    const result = probe.result();
    expect(result.videoCodec).toBe('h264');
    expect(result.audioCodec).toBe('none');
    expect(result.avcSps).toEqual(sps);
    expect(sps[0]! & 0x1f).toBe(7);
    expect(pictureSizeFromSps(result.avcSps!)).toEqual({ width: 320, height: 240 });
    expect(probe.complete).toBe(false);
  });

  it('copies the SPS out of the tag', () => {
    const probe = new FlvMediaProbe();
    const tag = flvTag(VIDEO, avcSequenceHeader(sps, pps));
    probe.push(tag);
    tag.fill(0);
    expect(probe.result().avcSps).toEqual(sps);
  });

  it('reads the codec but no SPS from an AVC NALU packet', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, [0x27, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x09, 0xf0]));
    expect(probe.result()).toEqual({ videoCodec: 'h264', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('has no SPS when the decoder configuration record lists none or is truncated', () => {
    const none = new FlvMediaProbe();
    none.push(flvTag(VIDEO, [0x17, 0x00, 0x00, 0x00, 0x00, 0x01, 0x64, 0x00, 0x0c, 0xff, 0xe0, 0x01, 0x00, 0x00]));
    expect(none.result().avcSps).toBeUndefined();

    const truncated = new FlvMediaProbe();
    truncated.push(flvTag(VIDEO, avcSequenceHeader(sps, pps).subarray(0, 13 + sps.length - 1)));
    expect(truncated.result()).toEqual({ videoCodec: 'h264', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('reads AAC audio (SoundFormat 10)', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(AUDIO, AAC_SEQUENCE_HEADER));
    expect(probe.result().audioCodec).toBe('aac');
  });

  it('reads MP3 audio (SoundFormat 2, and 14 for 8 kHz MP3)', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(AUDIO, MP3_FRAME));
    expect(probe.result().audioCodec).toBe('mp3');

    const mp38k = new FlvMediaProbe();
    mp38k.push(flvTag(AUDIO, [0xe2, 0xff]));
    expect(mp38k.result().audioCodec).toBe('mp3');
  });

  it('names an unlisted SoundFormat by number', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(AUDIO, [0xd0, 0x00]));
    expect(probe.result().audioCodec).toBe('unknown:13');
  });

  it('reads HEVC from the legacy codec id 12', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, [0x1c, 0x00, 0x00, 0x00, 0x00, 0x01, 0x01]));
    expect(probe.result()).toEqual({ videoCodec: 'hevc', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('names an unlisted legacy codec id by number', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, [0x1e, 0x00]));
    expect(probe.result().videoCodec).toBe('unknown:14');
  });

  it.each([
    ['hvc1', 'hevc'],
    ['av01', 'av1'],
    ['vp09', 'vp9'],
    ['avc1', 'h264'],
    ['xyz1', 'unknown:xyz1'],
  ])('reads the enhanced RTMP FourCC %s as %s', (fourcc, codec) => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, enhancedVideo(fourcc)));
    expect(probe.result()).toEqual({ videoCodec: codec, audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('is complete once both codecs are known, in either order', () => {
    const videoFirst = new FlvMediaProbe();
    videoFirst.push(flvTag(VIDEO, avcSequenceHeader(sps, pps)));
    expect(videoFirst.complete).toBe(false);
    videoFirst.push(flvTag(AUDIO, AAC_SEQUENCE_HEADER));
    expect(videoFirst.complete).toBe(true);

    const audioFirst = new FlvMediaProbe();
    audioFirst.push(flvTag(AUDIO, AAC_SEQUENCE_HEADER));
    expect(audioFirst.complete).toBe(false);
    audioFirst.push(flvTag(VIDEO, enhancedVideo('av01')));
    expect(audioFirst.complete).toBe(true);
    expect(audioFirst.result()).toEqual({ videoCodec: 'av1', audioCodec: 'aac', avcSps: undefined, metadata: undefined });
  });

  it('is not complete from metadata alone', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(SCRIPT, onMetaData([['width', amfNumber(1280)]])));
    expect(probe.complete).toBe(false);
  });

  it('keeps the first codecs it saw', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, avcSequenceHeader(sps, pps)));
    probe.push(flvTag(AUDIO, AAC_SEQUENCE_HEADER));
    probe.push(flvTag(VIDEO, enhancedVideo('hvc1'), 40));
    probe.push(flvTag(AUDIO, MP3_FRAME, 40));
    expect(probe.result()).toEqual({ videoCodec: 'h264', audioCodec: 'aac', avcSps: sps, metadata: undefined });
  });

  it('ignores tags with an empty body and fragments shorter than a tag', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(VIDEO, []));
    probe.push(flvTag(AUDIO, []));
    probe.push(new Uint8Array([VIDEO, 0, 0, 1]));
    expect(probe.result()).toEqual({ videoCodec: 'none', audioCodec: 'none', avcSps: undefined, metadata: undefined });
  });

  it('reads width, height, framerate and videodatarate from onMetaData, skipping strings and booleans', () => {
    const probe = new FlvMediaProbe();
    probe.push(
      flvTag(
        SCRIPT,
        onMetaData([
          ['duration', amfNumber(0)],
          ['encoder', amfString('obs-output module (libobs version 30.2.0)')],
          ['width', amfNumber(1280)],
          ['height', amfNumber(720)],
          ['stereo', amfBoolean(true)],
          ['framerate', amfNumber(29.97)],
          ['videodatarate', amfNumber(2500.4)],
          ['audiodatarate', amfNumber(160)],
        ]),
      ),
    );
    expect(probe.result()).toEqual({
      videoCodec: 'none',
      audioCodec: 'none',
      avcSps: undefined,
      metadata: { width: 1280, height: 720, fps: 29.97, videoKbps: 2500 },
    });
  });

  it('reads onMetaData without @setDataFrame and as a plain AMF object', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(SCRIPT, onMetaData([['width', amfNumber(640)], ['height', amfNumber(360)], ['framerate', amfNumber(25)]], { setDataFrame: false, container: 'object' })));
    expect(probe.result().metadata).toEqual({ width: 640, height: 360, fps: 25, videoKbps: 0 });
  });

  it('keeps the numbers read before a nested value it does not follow', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(SCRIPT, onMetaData([['width', amfNumber(854)], ['nested', [0x03, 0x00, 0x00, 0x09]], ['height', amfNumber(480)]])));
    expect(probe.result().metadata).toEqual({ width: 854, height: 0, fps: 0, videoKbps: 0 });
  });

  it('keeps the numbers read before a truncated metadata tag ends', () => {
    const full = onMetaData([['width', amfNumber(1920)], ['height', amfNumber(1080)]]);
    const probe = new FlvMediaProbe();
    probe.push(flvTag(SCRIPT, full.subarray(0, full.length - 3 - 4)));
    expect(probe.result().metadata).toEqual({ width: 1920, height: 0, fps: 0, videoKbps: 0 });
  });

  it('leaves metadata unset when a script tag has no numbers, and takes a later one', () => {
    const probe = new FlvMediaProbe();
    probe.push(flvTag(SCRIPT, onMetaData([['encoder', amfString('x')]])));
    expect(probe.result().metadata).toBeUndefined();
    probe.push(flvTag(SCRIPT, onMetaData([['height', amfNumber(1080)]])));
    expect(probe.result().metadata).toEqual({ width: 0, height: 1080, fps: 0, videoKbps: 0 });
    probe.push(flvTag(SCRIPT, onMetaData([['height', amfNumber(720)]])));
    expect(probe.result().metadata).toEqual({ width: 0, height: 1080, fps: 0, videoKbps: 0 });
  });

  it('reads a whole publish: header, metadata, both sequence headers', () => {
    const probe = new FlvMediaProbe();
    probe.push(FLV_FILE_HEADER);
    probe.push(flvTag(SCRIPT, onMetaData([['width', amfNumber(320)], ['height', amfNumber(240)], ['framerate', amfNumber(10)], ['videodatarate', amfNumber(300)]])));
    probe.push(flvTag(VIDEO, avcSequenceHeader(sps, pps)));
    probe.push(flvTag(AUDIO, AAC_SEQUENCE_HEADER));
    expect(probe.complete).toBe(true);
    expect(probe.result()).toEqual({
      videoCodec: 'h264',
      audioCodec: 'aac',
      avcSps: sps,
      metadata: { width: 320, height: 240, fps: 10, videoKbps: 300 },
    });
  });
});
