/**
 * Reads FLV tags (as node-media-server hands them to an FLV subscriber) far enough to tell which
 * codecs a broadcaster sends. Pure: feed tags, read the verdict.
 */

/** What the probe learnt from the sequence headers. */
export interface ProbedMedia {
  videoCodec: string;
  audioCodec: string;
  /** The AVC sequence header's first SPS NAL unit, for the picture size when metadata lacks it. */
  avcSps: Uint8Array | undefined;
  /** onMetaData fields, when the broadcaster sent them. */
  metadata: { width: number; height: number; fps: number; videoKbps: number } | undefined;
}

const FLV_AUDIO = 8;
const FLV_VIDEO = 9;
const FLV_SCRIPT = 18;

/** Legacy FLV video codec ids (FLV spec E.4.3.1), and 12, the common HEVC extension. */
const VIDEO_CODEC_IDS: Record<number, string> = { 2: 'sorenson', 3: 'screen', 4: 'vp6', 5: 'vp6a', 6: 'screen2', 7: 'h264', 12: 'hevc' };
/** Enhanced RTMP FourCCs (veovera enhanced-rtmp v1/v2). */
const VIDEO_FOURCCS: Record<string, string> = { avc1: 'h264', hvc1: 'hevc', av01: 'av1', vp09: 'vp9' };
/** FLV SoundFormat values (FLV spec E.4.2.1). */
const AUDIO_FORMATS: Record<number, string> = { 0: 'pcm', 1: 'adpcm', 2: 'mp3', 3: 'pcm', 4: 'nellymoser', 5: 'nellymoser', 6: 'nellymoser', 7: 'g711a', 8: 'g711u', 10: 'aac', 11: 'speex', 14: 'mp3' };

/** Accumulates FLV tags until both sequence headers (or a timeout) settle the codecs. */
export class FlvMediaProbe {
  #video: string | undefined;
  #audio: string | undefined;
  #sps: Uint8Array | undefined;
  #metadata: ProbedMedia['metadata'];

  /** Feeds one whole FLV tag (11-byte header, body, 4-byte previous-tag size) or the file header. */
  push(tag: Uint8Array): void {
    if (tag.length < 12 || (tag[0] === 0x46 && tag[1] === 0x4c && tag[2] === 0x56)) return; // 'FLV' file header
    const type = tag[0]! & 0x1f;
    const body = tag.subarray(11, tag.length - 4);
    if (body.length === 0) return;
    if (type === FLV_VIDEO && this.#video === undefined) this.#readVideo(body);
    else if (type === FLV_AUDIO && this.#audio === undefined) this.#audio = AUDIO_FORMATS[body[0]! >> 4] ?? `unknown:${body[0]! >> 4}`;
    else if (type === FLV_SCRIPT && this.#metadata === undefined) this.#metadata = readMetadata(body);
  }

  /** True once both a video and an audio codec are known. */
  get complete(): boolean {
    return this.#video !== undefined && this.#audio !== undefined;
  }

  /** The verdict so far; codecs not seen are reported as `none`. */
  result(): ProbedMedia {
    return { videoCodec: this.#video ?? 'none', audioCodec: this.#audio ?? 'none', avcSps: this.#sps, metadata: this.#metadata };
  }

  #readVideo(body: Uint8Array): void {
    const first = body[0]!;
    if (first & 0x80) {
      // Enhanced RTMP: IsExHeader bit, then a FourCC.
      const fourcc = String.fromCharCode(body[1]!, body[2]!, body[3]!, body[4]!);
      this.#video = VIDEO_FOURCCS[fourcc] ?? `unknown:${fourcc}`;
      return;
    }
    const codecId = first & 0x0f;
    this.#video = VIDEO_CODEC_IDS[codecId] ?? `unknown:${codecId}`;
    if (codecId === 7 && body[1] === 0) this.#sps = firstSps(body.subarray(5));
  }
}

/** The first SPS of an AVCDecoderConfigurationRecord (ISO 14496-15 §5.3.3.1). */
function firstSps(record: Uint8Array): Uint8Array | undefined {
  if (record.length < 8) return undefined;
  const count = record[5]! & 0x1f;
  if (count === 0) return undefined;
  const length = (record[6]! << 8) | record[7]!;
  return record.length >= 8 + length ? record.slice(8, 8 + length) : undefined;
}

/** Reads width, height, framerate and videodatarate from an AMF0 onMetaData body. */
function readMetadata(body: Uint8Array): ProbedMedia['metadata'] {
  const fields = readAmfNumbers(body);
  if (fields.size === 0) return undefined;
  return {
    width: Math.round(fields.get('width') ?? 0),
    height: Math.round(fields.get('height') ?? 0),
    fps: fields.get('framerate') ?? 0,
    videoKbps: Math.round(fields.get('videodatarate') ?? 0),
  };
}

/**
 * Collects the numeric properties of an AMF0 script tag ("@setDataFrame"/"onMetaData" followed by
 * an ECMA array or object). Other value types are skipped; nested objects end the scan.
 */
function readAmfNumbers(body: Uint8Array): Map<string, number> {
  const view = new DataView(body.buffer, body.byteOffset, body.byteLength);
  const out = new Map<string, number>();
  let p = 0;
  const readString = () => {
    const len = view.getUint16(p);
    const s = new TextDecoder().decode(body.subarray(p + 2, p + 2 + len));
    p += 2 + len;
    return s;
  };
  try {
    while (p < body.length && body[p] === 0x02) {
      p++;
      readString(); // "@setDataFrame" / "onMetaData"
    }
    if (body[p] === 0x08) p += 5; // ECMA array marker + count
    else if (body[p] === 0x03) p += 1; // object marker
    else return out;
    while (p + 3 <= body.length) {
      const key = readString();
      if (key === '' && body[p] === 0x09) break; // object end
      const marker = body[p++]!;
      if (marker === 0x00) {
        out.set(key, view.getFloat64(p));
        p += 8;
      } else if (marker === 0x01) p += 1;
      else if (marker === 0x02) readString();
      else break;
    }
  } catch {
    // A truncated or unusual metadata tag: keep what was read; the SPS gives the size anyway.
  }
  return out;
}
