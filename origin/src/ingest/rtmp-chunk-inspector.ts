/**
 * Reads the bytes an RTMP client sends (handshake, then chunk stream) without holding them, and
 * says whether they may go on to node-media-server: chunk sizes and declared message lengths are
 * checked before the server behind would allocate for them, and the first `publish` command is
 * noticed. Pure: bytes in, verdicts out, no I/O and no clock (the guard owns the deadlines).
 */

/** C0 + C1 from the client, then C2 (RTMP 1.0 §5.2). */
const HANDSHAKE_C0C1 = 1537;
const HANDSHAKE_C2 = 1536;
/** The chunk size every RTMP stream starts with (§5.4.1). */
const DEFAULT_CHUNK_SIZE = 128;
/** Command payload bytes kept to read the command name (the rest only counted). */
const COMMAND_PREFIX_BYTES = 512;
/** Message types: set chunk size, AMF3 command, AMF0 command. */
const SET_CHUNK_SIZE = 1;
const AMF3_COMMAND = 17;
const AMF0_COMMAND = 20;

/** Limits a client's stream must keep. */
export interface RtmpLimits {
  /** Largest chunk size a client may announce (OBS and ffmpeg use 4096). */
  maxChunkSize: number;
  /** Largest message a client may declare (a video frame; node-media-server allocates this much up front). */
  maxMessageBytes: number;
  /** Bytes of messages declared but not yet complete, over every chunk stream of one connection. */
  maxPendingBytes: number;
  /** Chunk streams one connection may open. */
  maxChunkStreams: number;
}

/** Defaults: generous for any real encoder, small enough that 64 hostile connections stay under ~0.5 GiB. */
export const DEFAULT_RTMP_LIMITS: RtmpLimits = { maxChunkSize: 65_536, maxMessageBytes: 4 * 1024 * 1024, maxPendingBytes: 8 * 1024 * 1024, maxChunkStreams: 16 };

/** Why a client's stream was cut. */
export type RtmpViolation = { code: 'chunk_size' | 'message_length' | 'pending_bytes' | 'chunk_streams' | 'bad_chunk'; message: string };

interface ChunkStream {
  length: number;
  type: number;
  received: number;
  extended: boolean;
  /** Timestamp of the message being read, and the delta the last header gave (type 3 chunks reuse it). */
  timestamp: number;
  delta: number;
  /** Start of a command payload, to read its name. */
  prefix: number[] | null;
}

/** A whole message the client sent: its type (8 audio, 9 video, 18 data, 20 command…) and RTMP timestamp (ms). */
export interface RtmpMessageSeen {
  type: number;
  timestamp: number;
  length: number;
}

/** Where the inspector is in the client's byte stream. */
export type InspectorPhase = 'handshake' | 'chunks' | 'failed';

/** Incremental RTMP client-stream checker; feed it every byte the client sends, in order. */
export class RtmpChunkInspector {
  readonly #limits: RtmpLimits;
  #phase: InspectorPhase = 'handshake';
  #handshakeLeft = HANDSHAKE_C0C1 + HANDSHAKE_C2;
  #chunkSize = DEFAULT_CHUNK_SIZE;
  #header: number[] = [];
  #streams = new Map<number, ChunkStream>();
  /** The chunk stream whose payload is being read, and how many payload bytes are left in this chunk. */
  #current: { csid: number; left: number } | null = null;
  #pending = 0;
  #publish = false;
  #violation: RtmpViolation | null = null;
  readonly #onMessage: ((m: RtmpMessageSeen) => void) | undefined;

  /** `onMessage` hears of each message as its last byte is read (the pipeline bench times frames with it). */
  constructor(limits: RtmpLimits = DEFAULT_RTMP_LIMITS, onMessage?: (m: RtmpMessageSeen) => void) {
    this.#limits = limits;
    this.#onMessage = onMessage;
  }

  get phase(): InspectorPhase {
    return this.#phase;
  }

  /** True once the client completed the handshake. */
  get handshakeDone(): boolean {
    return this.#phase !== 'handshake';
  }

  /** True once a `publish` command went through (its stream key is never kept). */
  get publishSeen(): boolean {
    return this.#publish;
  }

  /** Bytes of declared, incomplete messages (what the server behind may have allocated). */
  get pendingBytes(): number {
    return this.#pending;
  }

  /** Reads `bytes`; null when they may be forwarded, else the first violation (final). */
  push(bytes: Uint8Array): RtmpViolation | null {
    if (this.#violation) return this.#violation;
    let i = 0;
    if (this.#phase === 'handshake') {
      const take = Math.min(this.#handshakeLeft, bytes.length);
      this.#handshakeLeft -= take;
      i = take;
      if (this.#handshakeLeft === 0) this.#phase = 'chunks';
    }
    while (i < bytes.length && !this.#violation) i = this.#current ? this.#payload(bytes, i) : this.#headerByte(bytes, i);
    if (this.#violation) this.#phase = 'failed';
    return this.#violation;
  }

  #fail(code: RtmpViolation['code'], message: string): number {
    this.#violation = { code, message };
    return Number.MAX_SAFE_INTEGER;
  }

  /** Collects header bytes one at a time until a whole chunk header is known. */
  #headerByte(bytes: Uint8Array, i: number): number {
    this.#header.push(bytes[i]!);
    const h = this.#header;
    const fmt = h[0]! >> 6;
    const low = h[0]! & 0x3f;
    const basic = low === 0 ? 2 : low === 1 ? 3 : 1;
    if (h.length < basic) return i + 1;
    const csid = low === 0 ? 64 + h[1]! : low === 1 ? 64 + h[1]! + h[2]! * 256 : low;
    const messageHeader = [11, 7, 3, 0][fmt]!;
    const known = this.#streams.get(csid);
    let size = basic + messageHeader;
    if (h.length < size) return i + 1;
    const tsField = messageHeader >= 3 ? (h[basic]! << 16) | (h[basic + 1]! << 8) | h[basic + 2]! : 0;
    const extended = messageHeader >= 3 ? tsField === 0xffffff : (known?.extended ?? false);
    if (extended) size += 4;
    if (h.length < size) return i + 1;
    this.#header = [];
    const timestamp = extended ? ((h[size - 4]! << 24) | (h[size - 3]! << 16) | (h[size - 2]! << 8) | h[size - 1]!) >>> 0 : tsField;
    return this.#startChunk(csid, fmt, basic, h, extended, timestamp, known, i + 1);
  }

  #startChunk(csid: number, fmt: number, basic: number, h: number[], extended: boolean, timestamp: number, known: ChunkStream | undefined, next: number): number {
    let stream = known;
    if (!stream) {
      if (fmt !== 0) return this.#fail('bad_chunk', `chunk stream ${csid} starts with a type ${fmt} header`);
      if (this.#streams.size >= this.#limits.maxChunkStreams) return this.#fail('chunk_streams', `more than ${this.#limits.maxChunkStreams} chunk streams`);
      stream = { length: 0, type: 0, received: 0, extended, timestamp: 0, delta: 0, prefix: null };
      this.#streams.set(csid, stream);
    }
    stream.extended = extended;
    const newMessage = stream.received === 0 || stream.received >= stream.length;
    if (fmt <= 1) {
      if (!newMessage) return this.#fail('bad_chunk', `chunk stream ${csid}: a new message header before the last message ended`);
      stream.length = (h[basic + 3]! << 16) | (h[basic + 4]! << 8) | h[basic + 5]!;
      stream.type = h[basic + 6]!;
    }
    if (newMessage) {
      // §5.3.1.2: type 0 carries the absolute timestamp, types 1 and 2 a delta, type 3 repeats the last delta.
      if (fmt === 0) (stream.timestamp = timestamp), (stream.delta = 0);
      else if (fmt <= 2) (stream.delta = timestamp), (stream.timestamp += timestamp);
      else stream.timestamp += stream.delta;
      if (stream.length > this.#limits.maxMessageBytes) return this.#fail('message_length', `a message of ${stream.length} bytes declared (at most ${this.#limits.maxMessageBytes})`);
      if (this.#pending + stream.length > this.#limits.maxPendingBytes) return this.#fail('pending_bytes', `${this.#pending + stream.length} bytes of messages pending (at most ${this.#limits.maxPendingBytes})`);
      stream.received = 0;
      this.#pending += stream.length;
      stream.prefix = stream.type === AMF0_COMMAND || stream.type === AMF3_COMMAND || stream.type === SET_CHUNK_SIZE ? [] : null;
    }
    const left = Math.min(this.#chunkSize, stream.length - stream.received);
    if (left === 0) {
      this.#finish(stream);
      return next;
    }
    this.#current = { csid, left };
    return next;
  }

  #payload(bytes: Uint8Array, i: number): number {
    const cur = this.#current!;
    const stream = this.#streams.get(cur.csid)!;
    const take = Math.min(cur.left, bytes.length - i);
    if (stream.prefix && stream.prefix.length < COMMAND_PREFIX_BYTES) {
      for (let k = 0; k < take && stream.prefix.length < COMMAND_PREFIX_BYTES; k++) stream.prefix.push(bytes[i + k]!);
    }
    cur.left -= take;
    stream.received += take;
    if (cur.left === 0) {
      this.#current = null;
      if (stream.received >= stream.length) {
        const violation = this.#finish(stream);
        if (violation) return violation;
      }
    }
    return i + take;
  }

  /** A message is complete: release its budget and act on control and command messages. */
  #finish(stream: ChunkStream): number {
    this.#pending -= stream.length;
    this.#onMessage?.({ type: stream.type, timestamp: stream.timestamp, length: stream.length });
    const prefix = stream.prefix;
    stream.prefix = null;
    if (!prefix) return 0;
    if (stream.type === SET_CHUNK_SIZE) {
      const size = prefix.length >= 4 ? ((prefix[0]! & 0x7f) << 24) | (prefix[1]! << 16) | (prefix[2]! << 8) | prefix[3]! : 0;
      if (size < 1 || size > this.#limits.maxChunkSize) return this.#fail('chunk_size', `chunk size ${size} announced (1..${this.#limits.maxChunkSize})`);
      this.#chunkSize = size;
      return 0;
    }
    const name = amf0CommandName(stream.type === AMF3_COMMAND ? prefix.slice(1) : prefix);
    if (name === 'publish') this.#publish = true;
    return 0;
  }
}

/** The command name at the start of an AMF0 command payload (a string marker, u16 length, UTF-8), or null. Pure. */
export function amf0CommandName(payload: readonly number[] | Uint8Array): string | null {
  if (payload.length < 3 || payload[0] !== 0x02) return null;
  const length = (payload[1]! << 8) | payload[2]!;
  if (length > 64 || payload.length < 3 + length) return null;
  let name = '';
  for (let k = 0; k < length; k++) name += String.fromCharCode(payload[3 + k]!);
  return name;
}
