/**
 * Lifecycle of a stream as held by its StreamDO (the authority): `reconnecting` after its
 * publisher disconnected (waiting for it within the reconnect window), `error` after the pipeline
 * failed (also resumable within the window).
 */
export type StreamStatus = 'idle' | 'live' | 'reconnecting' | 'ended' | 'error';

/** Every StreamStatus, for schemas and filters. */
export const STREAM_STATUSES = ['idle', 'live', 'reconnecting', 'ended', 'error'] as const satisfies readonly StreamStatus[];

/** One rung of an adaptive ladder as configured (before it meets a source). */
export interface LadderRung {
  /** Rendition name used in URLs, e.g. `720p`. */
  name: string;
  /** Output height in pixels; the width follows the source aspect ratio. */
  height: number;
  /** Target video bitrate in kbit/s. */
  videoKbps: number;
}

/** A ladder: the video rungs plus one audio bitrate shared by every rendition. */
export interface Ladder {
  rungs: LadderRung[];
  audioKbps: number;
}

/** What the origin saw of a broadcaster's stream before transcoding it. */
export interface SourceInfo {
  /** FLV/enhanced-RTMP codec name: `h264`, `hevc`, `av1`, `vp9`, or `unknown:<id>`. */
  videoCodec: string;
  /** `aac`, `mp3`, `opus`, ... or `none` when no audio arrived. */
  audioCodec: string;
  width: number;
  height: number;
  /** Frames per second as declared by the encoder; 0 when unknown. */
  fps: number;
  /** Declared video bitrate in kbit/s; 0 when unknown. */
  videoKbps: number;
}

/** A rendition as stored: what the master playlist needs to advertise it. */
export interface RenditionInfo {
  name: string;
  width: number;
  height: number;
  /** RFC 6381 codecs string, e.g. `avc1.64001f,mp4a.40.2`. */
  codecs: string;
  frameRate: number;
  /** Bitrate the ladder asked for (video + audio), bit/s; used until segments are measured. */
  declaredBandwidth: number;
  /** File name of the CMAF init segment for the current epoch, e.g. `init-3.mp4`. */
  initFile: string;
}

/** One stored media segment of one rendition. */
export interface SegmentInfo {
  /** Media sequence number: the same N in every rendition starts at the same timestamp. */
  msn: number;
  /** Exact duration in seconds (from the fragment's sample table). */
  duration: number;
  /** Wall-clock time of the segment's first frame, ms since epoch (EXT-X-PROGRAM-DATE-TIME). */
  programDateTime: number;
  /** File name inside the rendition's folder, e.g. `seg-42-e3.m4s`. */
  file: string;
  /** Init segment that decodes this segment (changes with the epoch). */
  initFile: string;
  bytes: number;
  /** A timeline break precedes this segment (new epoch after a reconnect or takeover). */
  discontinuity: boolean;
  /** The segment was made but never stored (EXT-X-GAP): listed so no media sequence number moves. */
  gap: boolean;
}

/** Ingest health the origin reports with each heartbeat. */
export interface IngestMetrics {
  /** Bitrate arriving from the broadcaster, kbit/s. */
  bitrateKbps: number;
  /** Frames per second the transcoder processes. */
  fps: number;
  /** Encoder speed relative to real time (1 = real time). */
  speed: number;
  /** Frames the transcoder dropped so far in this epoch. */
  droppedFrames: number;
}
