/**
 * The management API's answers as zod schemas: the OpenAPI document's response schemas (and so the
 * typed client's types). Objects are strict, so the spec says `additionalProperties: false` and the
 * route coverage test fails on a field the answer carries but the spec does not name.
 */
import * as z from 'zod';
import { ERROR_STATUS, type ErrorCode } from '../errors.ts';
import { qoeSummarySchema, streamEventSchema, viewerCountsSchema } from '../feed/feed-messages.ts';
import { heartbeatSchema, ladderRungSchema, playbackPolicySchema, sourceInfoSchema } from '../schemas.ts';
import { STREAM_STATUSES } from '../types.ts';

const streamStatus = z.enum(STREAM_STATUSES);
/** Milliseconds since the epoch. */
const timestamp = z.number().int().min(0);
const nullableTimestamp = timestamp.nullable();

/** `{"error": {"code", "message"}}`: the body of every 4xx/5xx answer. */
export const errorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
      message: z.string(),
    }),
  })
  .meta({ id: 'Error' });

/** A ladder as a stream holds it (defaults applied). */
export const ladderAnswerSchema = z.strictObject({ rungs: z.array(ladderRungSchema), audioKbps: z.number().int() }).meta({ id: 'Ladder' });

/** Playback URLs of a live stream. */
export const playbackUrlsSchema = z.strictObject({ hls: z.string(), dash: z.string() });

/** A rendition as the stream reports it once its init was announced. */
export const renditionAnswerSchema = z.strictObject({
  name: z.string(),
  width: z.number().int(),
  height: z.number().int(),
  codecs: z.string(),
  frameRate: z.number(),
  bandwidth: z.number().int(),
  averageBandwidth: z.number().int(),
  segments: z.number().int(),
});

/** A stream as `GET /v1/streams/:id`, `PATCH` and `end` answer it. */
export const streamAnswerSchema = z
  .strictObject({
    id: z.string(),
    name: z.string().nullable(),
    status: streamStatus,
    createdAt: timestamp,
    startedAt: nullableTimestamp,
    endedAt: nullableTimestamp,
    ladder: ladderAnswerSchema,
    lowLatency: z.boolean(),
    partSeconds: z.number(),
    dvrWindowSeconds: z.number().int(),
    segmentSeconds: z.number(),
    renditions: z.array(renditionAnswerSchema),
    ingest: z.strictObject({
      nodeId: z.string().nullable(),
      lastHeartbeatAt: nullableTimestamp,
      metrics: heartbeatSchema.shape.metrics.nullable(),
      source: sourceInfoSchema.nullable(),
    }),
    viewers: viewerCountsSchema,
    qoe: qoeSummarySchema,
    epoch: z.number().int().min(0),
    lastError: z.strictObject({ reason: z.string(), message: z.string(), at: timestamp }).nullable(),
    reconnectWindowSeconds: z.number().int(),
    reconnectDeadline: nullableTimestamp,
    playbackPolicy: playbackPolicySchema,
    storage: z.strictObject({ segmentRows: z.number().int(), eventRows: z.number().int(), bytes: z.number().int(), purgedObjects: z.number().int() }),
    record: z.boolean(),
    recordingRetentionSeconds: z.number().int(),
    ingestUrl: z.string(),
    playback: playbackUrlsSchema,
  })
  .meta({ id: 'Stream' });

/** `POST /v1/streams`: the new stream with its key (shown only here and on rotation). */
export const createdStreamSchema = z
  .strictObject({
    id: z.string(),
    name: z.string().nullable(),
    streamKey: z.string(),
    ingestUrl: z.string(),
    publishUrl: z.string(),
    playback: playbackUrlsSchema,
    status: streamStatus,
    createdAt: timestamp,
    ladder: ladderAnswerSchema,
    lowLatency: z.boolean(),
    partSeconds: z.number(),
    dvrWindowSeconds: z.number().int(),
    segmentSeconds: z.number(),
    reconnectWindowSeconds: z.number().int(),
    record: z.boolean(),
    playbackPolicy: playbackPolicySchema,
  })
  .meta({ id: 'CreatedStream' });

/** `GET /v1/streams`: a page of the listing, newest first. */
export const streamPageSchema = z
  .strictObject({
    streams: z.array(z.strictObject({ id: z.string(), name: z.string().nullable(), status: streamStatus, createdAt: timestamp, updatedAt: timestamp })),
    nextCursor: z.string().nullable(),
  })
  .meta({ id: 'StreamPage' });

/** `GET /v1/streams/:id/events`: a page of the event log. */
export const eventPageSchema = z
  .strictObject({ events: z.array(streamEventSchema), nextSince: z.number().int().min(0), hasMore: z.boolean() })
  .meta({ id: 'EventPage' });

/** `POST /v1/streams/:id/key`: the new key. */
export const rotatedKeySchema = z.strictObject({ streamKey: z.string(), publishUrl: z.string() }).meta({ id: 'RotatedKey' });

/** `POST /v1/streams/:id/feed-tokens`: a read-only feed token and the WebSocket URL carrying it. */
export const feedTokenAnswerSchema = z.strictObject({ token: z.string(), expiresAt: timestamp, url: z.string() }).meta({ id: 'FeedToken' });

/** A recording with its poster and playback URLs (null until it is ready). */
export const recordingAnswerSchema = z
  .strictObject({
    id: z.string(),
    status: z.enum(['recording', 'ready', 'deleted']),
    startedAt: timestamp,
    endedAt: nullableTimestamp,
    expiresAt: nullableTimestamp,
    durationSeconds: z.number().min(0),
    bytes: z.number().int().min(0),
    segments: z.number().int().min(0),
    renditions: z.array(z.string()),
    firstEpoch: z.number().int(),
    playbackPolicy: playbackPolicySchema,
    thumbnailUrl: z.string().nullable(),
    playback: z.strictObject({ hls: z.string().nullable(), mp4: z.string().nullable() }),
  })
  .meta({ id: 'Recording' });

/** `GET /v1/streams/:id/recordings`, newest first. */
export const recordingListSchema = z.strictObject({ recordings: z.array(recordingAnswerSchema) }).meta({ id: 'RecordingList' });

/**
 * `POST /v1/streams/:id/playback-tokens`: a token for a `signed` stream, its live playback URLs and
 * its recordings' URLs, all carrying `?token=`.
 */
export const playbackTokenAnswerSchema = z
  .strictObject({
    token: z.string(),
    expiresAt: timestamp,
    viewerId: z.string().optional(),
    playback: playbackUrlsSchema,
    recordings: z.array(recordingAnswerSchema.pick({ id: true, status: true, thumbnailUrl: true, playback: true })),
  })
  .meta({ id: 'PlaybackToken' });

/** `GET /v1/edge/stats`: one isolate's counters. */
export const edgeStatsSchema = z
  .strictObject({
    isolate: z.string(),
    uptimeMs: z.number().int().min(0),
    playlistRequests: z.number().int().min(0),
    beacons: z.number().int().min(0),
    doCalls: z.number().int().min(0),
    /** Fan-out shard calls made instead of StreamDO calls once a stream's tier is engaged. */
    shardCalls: z.number().int().min(0),
  })
  .meta({ id: 'EdgeStats' });
