import { describe, expect, it } from 'vitest';
import { flvTag } from './flv-test-tags.ts';
import { MAX_PREAUTH_BUFFER_BYTES, PublishAdmission, publishRequest, sourceFrom } from './publish-admission.ts';

const SOURCE = { videoCodec: 'h264', audioCodec: 'aac', width: 320, height: 240, fps: 15, videoKbps: 300 };


const AAC_SEQUENCE_HEADER = flvTag(8, [0xaf, 0x00, 0x12, 0x10]);
const AVC_NALU = flvTag(9, [0x17, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x65]);

describe('PublishAdmission', () => {
  it('holds every tag until both codecs are known, then hands them over once', async () => {
    const admission = new PublishAdmission();
    expect(admission.push(AAC_SEQUENCE_HEADER)).toBe('probing');
    expect(admission.push(AVC_NALU)).toBe('probed');
    await admission.probed(60_000); // already probed: resolves at once
    expect(admission.source()).toEqual({ videoCodec: 'h264', audioCodec: 'aac', width: 0, height: 0, fps: 0, videoKbps: 0 });
    expect(admission.take()).toEqual([AAC_SEQUENCE_HEADER, AVC_NALU]);
    expect(admission.take()).toEqual([]);
  });

  it('stops waiting for the probe after the timeout, with what it saw', async () => {
    const admission = new PublishAdmission();
    admission.push(AAC_SEQUENCE_HEADER);
    const started = Date.now();
    await admission.probed(50);
    expect(Date.now() - started).toBeGreaterThanOrEqual(45);
    expect(admission.source()).toMatchObject({ videoCodec: 'none', audioCodec: 'aac' });
  });

  it('reports over_limit once more than MAX_PREAUTH_BUFFER_BYTES are held', () => {
    const admission = new PublishAdmission();
    const body = new Array<number>(1024 * 1024 - 15).fill(0);
    body[0] = 0xaf;
    body[1] = 0x01; // AAC raw frame: not a sequence header, so the probe keeps waiting
    const tag = flvTag(8, body);
    expect(tag.length).toBe(1024 * 1024);
    for (let i = 0; i < MAX_PREAUTH_BUFFER_BYTES / tag.length; i++) expect(admission.push(tag)).toBe('probing');
    expect(admission.push(AVC_NALU)).toBe('over_limit');
  });
});

describe('sourceFrom', () => {
  it('takes the picture size, frame rate and bitrate from onMetaData', () => {
    expect(sourceFrom({ videoCodec: 'h264', audioCodec: 'aac', avcSps: undefined, metadata: { width: 320, height: 240, fps: 15, videoKbps: 300 } })).toEqual(SOURCE);
  });

  it('reports zeros for what neither metadata nor an SPS tells', () => {
    expect(sourceFrom({ videoCodec: 'hevc', audioCodec: 'none', avcSps: undefined, metadata: undefined })).toEqual({ videoCodec: 'hevc', audioCodec: 'none', width: 0, height: 0, fps: 0, videoKbps: 0 });
  });

  it('ignores a metadata picture size of 0 (falls back to the SPS, here none)', () => {
    expect(sourceFrom({ videoCodec: 'h264', audioCodec: 'aac', avcSps: undefined, metadata: { width: 0, height: 0, fps: 30, videoKbps: 0 } })).toEqual({ ...SOURCE, width: 0, height: 0, fps: 30, videoKbps: 0 });
  });
});

describe('publishRequest', () => {
  it('is a plain publish without a previous epoch', () => {
    expect(publishRequest('s_k', 'node-a', SOURCE, undefined)).toEqual({ streamKey: 's_k', nodeId: 'node-a', source: SOURCE });
    expect(publishRequest('s_k', 'node-a', SOURCE, 0)).toEqual({ streamKey: 's_k', nodeId: 'node-a', source: SOURCE });
  });

  it('is a takeover of the previous epoch when there is one', () => {
    expect(publishRequest('s_k', 'node-a', SOURCE, 4)).toEqual({ streamKey: 's_k', nodeId: 'node-a', source: SOURCE, takeover: { previousEpoch: 4 } });
  });
});
