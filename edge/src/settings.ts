import * as z from 'zod';
import { EdgeliveError } from '../../shared/src/errors.ts';
import { cdnList, type CdnConfig } from './cdn/cdn-config.ts';
import type { Env } from './env.ts';
import type { PlaybackSigningKeys } from './playback/playback-token.ts';

const seconds = (fallback: number, min: number) => z.coerce.number().int().min(min).max(86_400).default(fallback);

const settingsSchema = z.object({
  INGEST_URL: z
    .string()
    .regex(/^rtmps?:\/\/[^/]+\/\S+[^/]$/, 'must be an rtmp:// or rtmps:// application URL without a trailing slash')
    .default('rtmp://127.0.0.1:1935/live'),
  PUBLIC_BASE_URL: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  ORIGIN_PULL_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8100/media'),
  ENDED_RETENTION_SECONDS: seconds(300, 0),
  PLAYLIST_WINDOW_SEGMENTS: z.coerce.number().int().min(3).max(1000).default(8),
  LIVENESS_TIMEOUT_SECONDS: seconds(5, 1),
  CDN_HASH_KEY: z.enum(['session', 'stream', 'segment']).default('session'),
  CDN_PROBE_INTERVAL_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  CDN_PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(2000),
  CDN_DOWN_AFTER_FAILURES: z.coerce.number().int().min(1).max(100).default(2),
  CDN_UP_AFTER_SUCCESSES: z.coerce.number().int().min(1).max(100).default(2),
  CDN_ERROR_THRESHOLD: z.coerce.number().int().min(1).max(1_000_000).default(5),
  CDN_ERROR_WINDOW_SECONDS: seconds(30, 1),
  CDN_HEALTH_CACHE_SECONDS: z.coerce.number().int().min(1).max(60).default(2),
  RECONNECT_WINDOW_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
  SIGNATURE_MAX_SKEW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  EVENT_RETENTION_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(604_800),
  ANALYTICS_RETENTION_DAYS: z.coerce.number().int().min(1).max(400).default(30),
  ADMIN_TOKEN: z.string().min(1).optional(),
  ORIGIN_SECRET: z.string().min(1).optional(),
  STREAM_ID_SECRET: z.string().min(1).optional(),
  PLAYBACK_SIGNING_KEY: z.string().min(1).optional(),
  PLAYBACK_SIGNING_KEY_PREVIOUS: z.string().min(1).optional(),
  EDGELIVE_ENV: z.enum(['development', 'production']).default('production'),
});

/** Shortest secret accepted outside local development (about 190 bits of base62). */
export const MIN_SECRET_LENGTH = 32;

/** The edge's configuration, validated and frozen. */
export interface Settings {
  readonly ingestUrl: string;
  /** Base of playback URLs without a trailing slash; empty means the request's own origin. */
  readonly publicBaseUrl: string;
  readonly originPullUrl: string;
  readonly endedRetentionSeconds: number;
  readonly playlistWindowSegments: number;
  readonly livenessTimeoutSeconds: number;
  /** CDNs viewers are spread over; empty means playlists keep relative URLs (no steering). */
  readonly cdns: readonly CdnConfig[];
  /** What rendezvous hashing ranks CDNs by: the viewer's session (default), the stream, or each segment. */
  readonly cdnHashKey: 'session' | 'stream' | 'segment';
  /** Seconds between health probes; also the steering manifest's TTL. */
  readonly cdnProbeIntervalSeconds: number;
  readonly cdnProbeTimeoutMs: number;
  /** Consecutive failed probes before a CDN is marked down. */
  readonly cdnDownAfterFailures: number;
  /** Consecutive good probes before a down CDN is marked up again. */
  readonly cdnUpAfterSuccesses: number;
  /** Player error beacons for one CDN within the window that count as one failed probe. */
  readonly cdnErrorThreshold: number;
  readonly cdnErrorWindowSeconds: number;
  /** How long a Worker isolate reuses the health it read from the CdnHealth object. */
  readonly cdnHealthCacheSeconds: number;
  /**
   * Default reconnect window of new streams (each stream keeps its own, set at create or by PATCH):
   * how long a `reconnecting` or `error` stream waits for its broadcaster before it is `ended`.
   */
  readonly reconnectWindowSeconds: number;
  /** How far an origin's signing clock may be from the edge's before its calls are refused. */
  readonly signatureMaxSkewSeconds: number;
  /** How long events stay in a stream's log before the alarm prunes them. */
  readonly eventRetentionSeconds: number;
  /** How many days per-minute analytics rollups are kept (per stream and fleet). */
  readonly analyticsRetentionDays: number;
  /** Null when the secret is not set: the management API then refuses every call. */
  readonly adminToken: string | null;
  /** Null when the secret is not set: the internal API then refuses every call. */
  readonly originSecret: string | null;
  /**
   * Key of the tag in stream ids (`STREAM_ID_SECRET`, else `ORIGIN_SECRET`); null: ids are not
   * signed and every well-formed id reaches its object. Changing it orphans every existing stream id.
   */
  readonly streamIdSecret: string | null;
  /**
   * HS256 keys of playback tokens (`PLAYBACK_SIGNING_KEY`, and `PLAYBACK_SIGNING_KEY_PREVIOUS` while
   * a rotation's old tokens live out); null when unset: no token can be minted or verified, so
   * `signed` streams refuse every viewer.
   */
  readonly playbackSigningKeys: PlaybackSigningKeys | null;
  /** `development` (the local stack, tests) accepts short secrets; anything else refuses them. */
  readonly environment: 'development' | 'production';
}

/** Validates the Worker's vars and secrets; the error names the offending key. */
export function parseSettings(env: Env): Settings {
  const parsed = settingsSchema.safeParse({
    INGEST_URL: env.INGEST_URL,
    PUBLIC_BASE_URL: env.PUBLIC_BASE_URL,
    ORIGIN_PULL_URL: env.ORIGIN_PULL_URL,
    ENDED_RETENTION_SECONDS: env.ENDED_RETENTION_SECONDS,
    PLAYLIST_WINDOW_SEGMENTS: env.PLAYLIST_WINDOW_SEGMENTS,
    LIVENESS_TIMEOUT_SECONDS: env.LIVENESS_TIMEOUT_SECONDS,
    CDN_HASH_KEY: env.CDN_HASH_KEY,
    CDN_PROBE_INTERVAL_SECONDS: env.CDN_PROBE_INTERVAL_SECONDS,
    CDN_PROBE_TIMEOUT_MS: env.CDN_PROBE_TIMEOUT_MS,
    CDN_DOWN_AFTER_FAILURES: env.CDN_DOWN_AFTER_FAILURES,
    CDN_UP_AFTER_SUCCESSES: env.CDN_UP_AFTER_SUCCESSES,
    CDN_ERROR_THRESHOLD: env.CDN_ERROR_THRESHOLD,
    CDN_ERROR_WINDOW_SECONDS: env.CDN_ERROR_WINDOW_SECONDS,
    CDN_HEALTH_CACHE_SECONDS: env.CDN_HEALTH_CACHE_SECONDS,
    RECONNECT_WINDOW_SECONDS: env.RECONNECT_WINDOW_SECONDS,
    SIGNATURE_MAX_SKEW_SECONDS: env.SIGNATURE_MAX_SKEW_SECONDS,
    EVENT_RETENTION_SECONDS: env.EVENT_RETENTION_SECONDS,
    ANALYTICS_RETENTION_DAYS: env.ANALYTICS_RETENTION_DAYS,
    // An empty secret is as good as none.
    ADMIN_TOKEN: env.ADMIN_TOKEN || undefined,
    ORIGIN_SECRET: env.ORIGIN_SECRET || undefined,
    STREAM_ID_SECRET: env.STREAM_ID_SECRET || undefined,
    PLAYBACK_SIGNING_KEY: env.PLAYBACK_SIGNING_KEY || undefined,
    PLAYBACK_SIGNING_KEY_PREVIOUS: env.PLAYBACK_SIGNING_KEY_PREVIOUS || undefined,
    EDGELIVE_ENV: env.EDGELIVE_ENV || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') ?? 'settings';
    throw new EdgeliveError('internal', `invalid setting ${key}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  if (s.PLAYBACK_SIGNING_KEY_PREVIOUS !== undefined && s.PLAYBACK_SIGNING_KEY === undefined) {
    throw new EdgeliveError('internal', 'invalid setting PLAYBACK_SIGNING_KEY_PREVIOUS: set only beside PLAYBACK_SIGNING_KEY (the key it was rotated out for)');
  }
  if (s.EDGELIVE_ENV !== 'development') {
    for (const name of ['ADMIN_TOKEN', 'ORIGIN_SECRET', 'STREAM_ID_SECRET', 'PLAYBACK_SIGNING_KEY', 'PLAYBACK_SIGNING_KEY_PREVIOUS'] as const) {
      const value = s[name];
      if (value !== undefined && value.length < MIN_SECRET_LENGTH) {
        throw new EdgeliveError('internal', `invalid setting ${name}: must be at least ${MIN_SECRET_LENGTH} characters outside local development (EDGELIVE_ENV=development), got ${value.length}`);
      }
    }
  }
  return Object.freeze({
    ingestUrl: s.INGEST_URL,
    publicBaseUrl: s.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    originPullUrl: s.ORIGIN_PULL_URL.replace(/\/+$/, ''),
    endedRetentionSeconds: s.ENDED_RETENTION_SECONDS,
    playlistWindowSegments: s.PLAYLIST_WINDOW_SEGMENTS,
    livenessTimeoutSeconds: s.LIVENESS_TIMEOUT_SECONDS,
    cdns: cdnList(env.CDNS),
    cdnHashKey: s.CDN_HASH_KEY,
    cdnProbeIntervalSeconds: s.CDN_PROBE_INTERVAL_SECONDS,
    cdnProbeTimeoutMs: s.CDN_PROBE_TIMEOUT_MS,
    cdnDownAfterFailures: s.CDN_DOWN_AFTER_FAILURES,
    cdnUpAfterSuccesses: s.CDN_UP_AFTER_SUCCESSES,
    cdnErrorThreshold: s.CDN_ERROR_THRESHOLD,
    cdnErrorWindowSeconds: s.CDN_ERROR_WINDOW_SECONDS,
    cdnHealthCacheSeconds: s.CDN_HEALTH_CACHE_SECONDS,
    reconnectWindowSeconds: s.RECONNECT_WINDOW_SECONDS,
    signatureMaxSkewSeconds: s.SIGNATURE_MAX_SKEW_SECONDS,
    eventRetentionSeconds: s.EVENT_RETENTION_SECONDS,
    analyticsRetentionDays: s.ANALYTICS_RETENTION_DAYS,
    adminToken: s.ADMIN_TOKEN ?? null,
    originSecret: s.ORIGIN_SECRET ?? null,
    streamIdSecret: s.STREAM_ID_SECRET ?? s.ORIGIN_SECRET ?? null,
    playbackSigningKeys: s.PLAYBACK_SIGNING_KEY === undefined ? null : Object.freeze({ current: s.PLAYBACK_SIGNING_KEY, previous: s.PLAYBACK_SIGNING_KEY_PREVIOUS ?? null }),
    environment: s.EDGELIVE_ENV,
  });
}
