import { z } from 'zod';
import { EdgeliveError } from '../../shared/src/errors.ts';
import type { Env } from './env.ts';

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
  RESUME_GRACE_SECONDS: seconds(30, 0),
  EVENT_RETENTION_SECONDS: z.coerce.number().int().min(60).max(31_536_000).default(604_800),
  ADMIN_TOKEN: z.string().min(1).optional(),
  ORIGIN_SECRET: z.string().min(1).optional(),
});

/** The edge's configuration, validated and frozen. */
export interface Settings {
  readonly ingestUrl: string;
  /** Base of playback URLs without a trailing slash; empty means the request's own origin. */
  readonly publicBaseUrl: string;
  readonly originPullUrl: string;
  readonly endedRetentionSeconds: number;
  readonly playlistWindowSegments: number;
  readonly livenessTimeoutSeconds: number;
  /** How long an `error` stream waits for its broadcaster to come back before it is `ended`. */
  readonly resumeGraceSeconds: number;
  /** How long events stay in a stream's log before the alarm prunes them. */
  readonly eventRetentionSeconds: number;
  /** Null when the secret is not set: the management API then refuses every call. */
  readonly adminToken: string | null;
  /** Null when the secret is not set: the internal API then refuses every call. */
  readonly originSecret: string | null;
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
    RESUME_GRACE_SECONDS: env.RESUME_GRACE_SECONDS,
    EVENT_RETENTION_SECONDS: env.EVENT_RETENTION_SECONDS,
    // An empty secret is as good as none.
    ADMIN_TOKEN: env.ADMIN_TOKEN || undefined,
    ORIGIN_SECRET: env.ORIGIN_SECRET || undefined,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue?.path.join('.') ?? 'settings';
    throw new EdgeliveError('internal', `invalid setting ${key}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  return Object.freeze({
    ingestUrl: s.INGEST_URL,
    publicBaseUrl: s.PUBLIC_BASE_URL.replace(/\/+$/, ''),
    originPullUrl: s.ORIGIN_PULL_URL.replace(/\/+$/, ''),
    endedRetentionSeconds: s.ENDED_RETENTION_SECONDS,
    playlistWindowSegments: s.PLAYLIST_WINDOW_SEGMENTS,
    livenessTimeoutSeconds: s.LIVENESS_TIMEOUT_SECONDS,
    resumeGraceSeconds: s.RESUME_GRACE_SECONDS,
    eventRetentionSeconds: s.EVENT_RETENTION_SECONDS,
    adminToken: s.ADMIN_TOKEN ?? null,
    originSecret: s.ORIGIN_SECRET ?? null,
  });
}
