/**
 * Messages of the analytics feed (`GET /v1/streams/:id/events` with `Upgrade: websocket`), as a
 * discriminated union on `type` with the zod schema clients validate them with.
 */
import * as z from 'zod';
import { STREAM_STATUSES } from '../types.ts';

const streamStatus = z.enum(STREAM_STATUSES);

/** Viewer counts: sessions seen within 3 target durations, the peak and unique sessions. */
export const viewerCountsSchema = z.object({
  current: z.number().int().min(0),
  peak: z.number().int().min(0),
  total: z.number().int().min(0),
  /** Current viewers per rendition name. */
  renditions: z.record(z.string(), z.number().int().min(0)),
});
export type ViewerCounts = z.infer<typeof viewerCountsSchema>;

/** Player QoE aggregated from beacons. */
export const qoeSummarySchema = z.object({
  beacons: z.number().int().min(0),
  /** Median startup time over sessions that reported one; null before any. */
  startupMsP50: z.number().min(0).nullable(),
  rebufferCount: z.number().int().min(0),
  /** Rebuffering time over rebuffering plus playing time, 0–1. */
  rebufferRatio: z.number().min(0).max(1),
  switches: z.number().int().min(0),
});
export type QoeSummary = z.infer<typeof qoeSummarySchema>;

/** Ingest health from the origin's last heartbeat. */
export const feedIngestSchema = z.object({
  bitrateKbps: z.number(),
  fps: z.number(),
  speed: z.number(),
  droppedFrames: z.number(),
  lastHeartbeatAt: z.number().nullable(),
});

/** One entry of the stream's event log (the same shape as the REST event list). */
export const streamEventSchema = z.object({
  seq: z.number().int().positive(),
  ts: z.number(),
  type: z.string(),
  data: z.record(z.string(), z.unknown()),
});
export type StreamEvent = z.infer<typeof streamEventSchema>;

const envelope = {
  streamId: z.string(),
  /** When the edge sent it, ms since epoch. */
  ts: z.number(),
  /** Per stream, strictly increasing across every message of every consumer. */
  seq: z.number().int().positive(),
};

/** The stream's whole observable state. */
export const snapshotMessageSchema = z.object({
  type: z.literal('snapshot'),
  ...envelope,
  status: streamStatus,
  epoch: z.number().int().min(0),
  viewers: viewerCountsSchema,
  ingest: feedIngestSchema.nullable(),
  qoe: qoeSummarySchema,
  lastError: z.object({ reason: z.string(), message: z.string(), at: z.number() }).nullable(),
});
export type SnapshotMessage = z.infer<typeof snapshotMessageSchema>;

/** One stream event, sent as soon as it is stored. */
export const eventMessageSchema = z.object({
  type: z.literal('event'),
  ...envelope,
  event: streamEventSchema,
});
export type EventMessage = z.infer<typeof eventMessageSchema>;

/** Every message the feed sends. */
export const feedMessageSchema = z.discriminatedUnion('type', [snapshotMessageSchema, eventMessageSchema]);
export type FeedMessage = z.infer<typeof feedMessageSchema>;

/** The snapshot's state without the envelope (what the StreamDO compares to see a change). */
export type SnapshotBody = Omit<SnapshotMessage, 'type' | 'streamId' | 'ts' | 'seq'>;
