import * as z from 'zod';
import { STREAM_STATUSES } from './types.ts';

/** LL-HLS part target of a stream that does not choose one (Apple's examples use a third of a second). */
export const DEFAULT_PART_SECONDS = 0.333;

/** Rendition names appear in URLs and object keys: keep them short and path-safe. */
export const renditionName = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,15}$/, 'rendition name must be 1-16 of [a-z0-9_-], starting with a letter or digit');

export const ladderRungSchema = z.object({
  name: renditionName,
  height: z.number().int().min(144).max(2160),
  videoKbps: z.number().int().min(100).max(50_000),
});

export const ladderSchema = z
  .object({
    rungs: z.array(ladderRungSchema).min(1).max(8),
    audioKbps: z.number().int().min(32).max(512).default(128),
  })
  .refine((l) => new Set(l.rungs.map((r) => r.name)).size === l.rungs.length, { message: 'rung names must be unique' });

/** Seconds a stream waits for its publisher to come back (0 = end at once), at most an hour. */
const reconnectWindowSeconds = z.number().int().min(0).max(3600);

/** The longest DVR window a stream may keep (4 h). */
export const MAX_DVR_WINDOW_SECONDS = 14_400;
/** The DVR window of `dvr: true` without `dvrWindowSeconds` (2 h). */
export const DVR_DEFAULT_SECONDS = 7200;
/** How long a finished recording is kept by default (7 days). */
export const DEFAULT_RECORDING_RETENTION_SECONDS = 604_800;

/** The DVR window a create body asks for: explicit seconds win, `dvr: true` means 2 h, otherwise off. */
export function dvrWindowOf(input: { dvrWindowSeconds?: number | undefined; dvr?: boolean | undefined }): number {
  if (input.dvrWindowSeconds !== undefined) return input.dvrWindowSeconds;
  return input.dvr ? DVR_DEFAULT_SECONDS : 0;
}

/** Who may play a stream: anyone with its id, or only a viewer holding a playback token the API minted. */
export const playbackPolicySchema = z.enum(['public', 'signed']);
export type PlaybackPolicy = z.infer<typeof playbackPolicySchema>;

/** Body of `POST /v1/streams`. */
export const createStreamSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    ladder: ladderSchema.optional(),
    /** LL-HLS (parts, blocking reload, delta updates); on unless turned off. */
    lowLatency: z.boolean().default(true),
    /** LL-HLS part target in seconds (PART-TARGET). */
    partSeconds: z.number().min(0.2).max(1).default(DEFAULT_PART_SECONDS),
    /** Seconds of media live playlists keep for seeking back (0 = off, at most 4 h). `dvr: true` alone means DVR_DEFAULT_SECONDS. */
    dvrWindowSeconds: z.number().int().min(0).max(MAX_DVR_WINDOW_SECONDS).optional(),
    dvr: z.boolean().optional(),
    /** Record each live session (first publish to end, across reconnects) as a VOD asset. */
    record: z.boolean().default(false),
    /** How long a finished recording is kept before the alarm purges it; default 7 days. */
    recordingRetentionSeconds: z.number().int().min(10).max(31_536_000).optional(),
    segmentSeconds: z.number().min(1).max(10).optional(),
    /** How long a disconnected publisher may come back to the same stream; 0 ends it at once. Default: the edge's RECONNECT_WINDOW_SECONDS (60). */
    reconnectWindowSeconds: reconnectWindowSeconds.optional(),
    /** `signed`: playback needs a token from `POST /v1/streams/:id/playback-tokens`. Default `public`. */
    playbackPolicy: playbackPolicySchema.default('public'),
  })
  .strict();
export type CreateStreamInput = z.infer<typeof createStreamSchema>;

/** Body of `PATCH /v1/streams/:id`: settings that may change on an existing stream. */
export const updateStreamSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    reconnectWindowSeconds: reconnectWindowSeconds.optional(),
    playbackPolicy: playbackPolicySchema.optional(),
  })
  .strict()
  .refine((u) => Object.keys(u).length > 0, { message: 'nothing to update: give name, reconnectWindowSeconds or playbackPolicy' });
export type UpdateStreamInput = z.infer<typeof updateStreamSchema>;

/** Longest playback token lifetime (a day): a token cannot be revoked, so it should not outlive a viewing session by much. */
export const MAX_PLAYBACK_TOKEN_TTL_SECONDS = 86_400;

/** Body of `POST /v1/streams/:id/playback-tokens`. */
export const playbackTokenRequestSchema = z.strictObject({
  /** Seconds until the token expires: 10 s to a day, default an hour. */
  ttlSeconds: z.number().int().min(10).max(MAX_PLAYBACK_TOKEN_TTL_SECONDS).default(3600),
  /** The application's id for the viewer (`vid` claim), for its own analytics and audits. */
  viewerId: z.string().min(1).max(128).regex(/^[\x21-\x7e]+$/, 'viewerId: printable ASCII without spaces').optional(),
});
export type PlaybackTokenRequest = z.input<typeof playbackTokenRequestSchema>;

/** Query of `GET /v1/streams`. */
export const listStreamsQuerySchema = z.object({
  status: z.enum(STREAM_STATUSES).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(200).optional(),
});

/** Query of `GET /v1/streams/:id/events`. */
export const eventsQuerySchema = z.object({
  since: z.coerce.number().int().min(0).default(0),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

/** Body of `POST /v1/streams/:id/feed-tokens`. */
export const feedTokenRequestSchema = z.object({ ttlSeconds: z.number().int().min(60).max(86_400).default(3600) }).strict();

export const sourceInfoSchema = z.object({
  videoCodec: z.string().max(40),
  audioCodec: z.string().max(40),
  width: z.number().int().min(0).max(16384),
  height: z.number().int().min(0).max(16384),
  fps: z.number().min(0).max(1000),
  videoKbps: z.number().min(0).max(1_000_000),
});

/** Origin → edge: a broadcaster began publishing with this key. */
export const publishRequestSchema = z.object({
  streamKey: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(100),
  source: sourceInfoSchema,
  /**
   * Cluster takeover: the publisher's origin won the stream's lease from a failed owner (or is
   * restarting its own transcoder) and replaces exactly this epoch. The StreamDO accepts it even
   * while the old publisher still looks fresh, but only when this is still the current epoch
   * (compare-and-swap), so two nodes cannot both take over.
   */
  takeover: z.object({ previousEpoch: z.number().int().positive() }).optional(),
  /**
   * The first media sequence number this node may use for the stream: one past every segment it
   * has cut (stored or still queued). The grant's firstMsn is never below it, so a queued segment
   * of an earlier epoch keeps its number.
   */
  minMsn: z.number().int().min(0).optional(),
});
export type PublishRequest = z.infer<typeof publishRequestSchema>;

/** Body of `POST /internal/v1/key-check`: the key a broadcaster presented and the node asking. */
export const keyCheckRequestSchema = z.strictObject({
  streamKey: z.string().min(1).max(200),
  nodeId: z.string().min(1).max(100),
});
export type KeyCheckRequest = z.infer<typeof keyCheckRequestSchema>;

/** Answer of the key check: the stream the key opens. */
export const keyCheckAnswerSchema = z.object({ streamId: z.string() });

/** Edge → origin: the publish is accepted; transcode with these settings under this epoch. */
export const publishGrantSchema = z.object({
  streamId: z.string(),
  epoch: z.number().int().positive(),
  ladder: ladderSchema,
  segmentSeconds: z.number(),
  /** First media sequence number this epoch must use (continues across epochs). */
  firstMsn: z.number().int().min(0),
  /** LL-HLS part target in seconds; null when the stream has low latency off (no parts are cut). */
  partSeconds: z.number().min(0.2).max(1).nullable().default(null),
});
export type PublishGrant = z.infer<typeof publishGrantSchema>;

const epoch = z.number().int().positive();

/** Origin → edge: a rendition's init segment is stored. */
export const renditionAnnounceSchema = z.object({
  epoch,
  rendition: z.object({
    name: renditionName,
    width: z.number().int().min(1).max(16384),
    height: z.number().int().min(1).max(16384),
    codecs: z.string().min(1).max(200),
    frameRate: z.number().min(0).max(1000),
    declaredBandwidth: z.number().int().min(0),
    initFile: z.string().regex(/^init-\d+\.mp4$/),
  }),
});
export type RenditionAnnounce = z.infer<typeof renditionAnnounceSchema>;

/**
 * One segment in an announce. `epoch` is the epoch it was made in (its init is `init-<epoch>.mp4`,
 * its file `seg-<msn>-e<epoch>.m4s`); it may be older than the announce's own epoch when a node
 * lists what it queued before a reconnect. `gap`: made but never stored (its upload was given up),
 * listed as EXT-X-GAP so no media sequence number changes meaning; `bytes` is 0 then.
 */
export const announcedSegmentSchema = z
  .object({
    rendition: renditionName,
    msn: z.number().int().min(0),
    epoch: z.number().int().positive(),
    duration: z.number().positive().max(60),
    programDateTime: z.number().int().positive(),
    /** Wall clock of decode time 0 of the encoder run that made it (DASH timelines); older origins leave it out. */
    timelineOrigin: z.number().int().positive().optional(),
    file: z.string().regex(/^seg-\d{1,12}-e\d{1,10}\.m4s$/),
    bytes: z.number().int().min(0),
    gap: z.boolean().default(false),
  })
  .refine((s) => s.file === `seg-${s.msn}-e${s.epoch}.m4s`, { message: 'file must be seg-<msn>-e<epoch>.m4s', path: ['file'] })
  .refine((s) => s.gap || s.bytes > 0, { message: 'a stored segment has bytes', path: ['bytes'] });
export type AnnouncedSegment = z.infer<typeof announcedSegmentSchema>;

/** Origin → edge: segments are stored (each upload already succeeded) or given up (gap). */
export const segmentAnnounceSchema = z.object({
  epoch,
  segments: z.array(announcedSegmentSchema).min(1).max(64),
});
export type SegmentAnnounce = z.infer<typeof segmentAnnounceSchema>;

/**
 * One LL-HLS part in an announce: fragment `part` of segment `msn`, held in the origin's memory
 * (`part-<msn>-<part>-e<epoch>.m4s`, served by its media route). `last`: it closes segment `msn`.
 */
export const announcedPartSchema = z
  .object({
    rendition: renditionName,
    msn: z.number().int().min(0),
    part: z.number().int().min(0).max(255),
    epoch: z.number().int().positive(),
    duration: z.number().positive().max(2),
    independent: z.boolean(),
    last: z.boolean(),
    file: z.string().regex(/^part-\d{1,12}-\d{1,3}-e\d{1,10}\.m4s$/),
  })
  .refine((p) => p.file === `part-${p.msn}-${p.part}-e${p.epoch}.m4s`, { message: 'file must be part-<msn>-<part>-e<epoch>.m4s', path: ['file'] });
export type AnnouncedPart = z.infer<typeof announcedPartSchema>;

/** Origin → edge: LL-HLS parts are ready (in the origin's memory), batched across renditions. */
export const partAnnounceSchema = z.object({
  epoch,
  parts: z.array(announcedPartSchema).min(1).max(256),
});
export type PartAnnounce = z.infer<typeof partAnnounceSchema>;

/** Origin → edge: the stream's transcoder is alive; ingest health. */
export const heartbeatSchema = z.object({
  epoch,
  metrics: z.object({
    bitrateKbps: z.number().min(0),
    fps: z.number().min(0),
    speed: z.number().min(0),
    droppedFrames: z.number().int().min(0),
  }),
});
export type HeartbeatAnnounce = z.infer<typeof heartbeatSchema>;

/**
 * Origin → edge: this epoch's publish is over. `publisher_stopped`: the broadcaster disconnected
 * (the stream waits in `reconnecting` for its reconnect window, or ends when the window is 0);
 * `transcoder_failed` / `node_shutdown`: the pipeline failed (`error`, resumable in the window).
 * `nextMsn`: one past the last segment this epoch cut, stored or still queued; the next epoch
 * starts there, and segments still queued may be announced after this end.
 */
export const endAnnounceSchema = z.object({
  epoch,
  reason: z.enum(['publisher_stopped', 'transcoder_failed', 'node_shutdown']),
  message: z.string().max(500).optional(),
  nextMsn: z.number().int().min(0).optional(),
});
export type EndAnnounce = z.infer<typeof endAnnounceSchema>;
