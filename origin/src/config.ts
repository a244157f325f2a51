import { availableParallelism, hostname } from 'node:os';
import * as z from 'zod';
import { DEFAULT_RTMP_GUARD, type RtmpGuardSettings } from './ingest/rtmp-guard.ts';
import { DEFAULT_RTMP_LIMITS } from './ingest/rtmp-chunk-inspector.ts';

/**
 * The origin's configuration: defaults, then environment, validated once at start-up and frozen.
 * The only module that reads `process.env`.
 */
/** A TCP port; an empty value is an error, not port 0. */
const port = (fallback: number) =>
  z
    .string()
    .trim()
    .regex(/^\d+$/, 'must be a port number (0-65535)')
    .default(String(fallback))
    .transform(Number)
    .pipe(z.number().int().max(65535, 'must be a port number (0-65535)'));
/** An http(s) URL: `localhost:8787` without a scheme is refused rather than misread. */
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http:// or https:// URL' });

/** The environment the origin reads, key by key (infra tests check deployment files against it). */
export const configSchema = z.object({
  NODE_ID: z.string().min(1).max(100).default(`${hostname()}-${process.pid}`),
  BIND_HOST: z.string().min(1).default('127.0.0.1'),
  RTMP_PORT: port(1935),
  HTTP_PORT: port(8100),
  EDGE_URL: httpUrl.default('http://127.0.0.1:8787'),
  ORIGIN_SECRET: z.string().min(16, 'ORIGIN_SECRET must be at least 16 characters (shared with the edge)'),
  S3_ENDPOINT: httpUrl.optional(),
  S3_REGION: z.string().default('auto'),
  S3_BUCKET: z.string().min(3).default('edgelive-media'),
  S3_ACCESS_KEY_ID: z.string().min(1, 'S3_ACCESS_KEY_ID is required'),
  S3_SECRET_ACCESS_KEY: z.string().min(1, 'S3_SECRET_ACCESS_KEY is required'),
  S3_FORCE_PATH_STYLE: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
  UPLOAD_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
  FFMPEG_PATH: z.string().min(1).optional(),
  X264_PRESET: z.enum(['ultrafast', 'superfast', 'veryfast', 'faster', 'fast', 'medium']).default('veryfast'),
  WORK_DIR: z.string().min(1).optional(),
  /** Seconds between thumbnails (0 = none); each is a small JPEG of the picture. */
  THUMBNAIL_INTERVAL_SECONDS: z.coerce.number().int().min(0).max(3600).default(10),
  HEARTBEAT_MS: z.coerce.number().int().min(200).max(10_000).default(1000),
  PROBE_TIMEOUT_MS: z.coerce.number().int().min(100).max(10_000).default(1500),
  DRAIN_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(1500),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' }).optional(),
  ADVERTISE_HOST: z.string().min(1).optional(),
  NODE_CAPACITY: z.coerce.number().int().min(1).max(1000).default(availableParallelism()),
  CLUSTER_CAPACITY: z.coerce.number().int().min(1).max(100_000).default(100),
  LEASE_TTL_MS: z.coerce.number().int().min(500).max(60_000).default(3000),
  NODE_TTL_MS: z.coerce.number().int().min(500).max(60_000).default(3000),
  FFMPEG_STALL_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  FFMPEG_MAX_RESTARTS: z.coerce.number().int().min(0).max(20).default(3),
  FFMPEG_RESTART_BACKOFF_MS: z.coerce.number().int().min(0).max(60_000).default(500),
  FFMPEG_HEALTHY_RESET_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  RELAY_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(10_000),
  UPLOAD_QUEUE_MAX_BYTES: z.coerce.number().int().min(1024 * 1024).max(4 * 1024 ** 3).default(64 * 1024 * 1024),
  GRANT_PATIENCE_MS: z.coerce.number().int().min(0).max(600_000).default(15_000),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
  /** `development` (the local stack, tests) accepts an ORIGIN_SECRET shorter than 32 characters. */
  EDGELIVE_ENV: z.enum(['development', 'production']).default('production'),
  RTMP_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).max(10_000).default(8),
  RTMP_MAX_CONNECTIONS: z.coerce.number().int().min(1).max(100_000).default(64),
  RTMP_HANDSHAKE_TIMEOUT_MS: z.coerce.number().int().min(500).max(60_000).default(5_000),
  RTMP_PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(1000).max(120_000).default(10_000),
  RTMP_MAX_MESSAGE_BYTES: z.coerce.number().int().min(64 * 1024).max(16 * 1024 * 1024).default(4 * 1024 * 1024),
  /** Bearer token for `/metrics` and the detailed `/healthz` from other than loopback; unset: loopback only. */
  METRICS_TOKEN: z.string().min(16).optional(),
}).superRefine((e, ctx) => {
  if (e.EDGELIVE_ENV !== 'development' && e.ORIGIN_SECRET.length < 32) {
    ctx.addIssue({ code: 'custom', path: ['ORIGIN_SECRET'], message: `ORIGIN_SECRET must be at least 32 characters outside local development (EDGELIVE_ENV=development), got ${e.ORIGIN_SECRET.length}` });
  }
});

/** Validated, frozen origin configuration. */
export type OriginConfig = Readonly<{
  nodeId: string;
  bindHost: string;
  rtmpPort: number;
  httpPort: number;
  edgeUrl: string;
  originSecret: string;
  s3: Readonly<{ endpoint: string | undefined; region: string; bucket: string; accessKeyId: string; secretAccessKey: string; forcePathStyle: boolean }>;
  uploadConcurrency: number;
  ffmpegPath: string | undefined;
  x264Preset: string;
  /** Seconds between thumbnails; 0 = none. */
  thumbnailIntervalSeconds: number;
  workDir: string | undefined;
  heartbeatMs: number;
  probeTimeoutMs: number;
  drainTimeoutMs: number;
  /** Cluster mode when set; a single node with an in-memory coordinator otherwise. */
  redisUrl: string | undefined;
  /** Host other nodes use to reach this one (relays); BIND_HOST by default. */
  advertiseHost: string;
  /** Streams this node transcodes at once (default: CPU count). */
  nodeCapacity: number;
  /** Streams the whole cluster transcodes at once. */
  clusterCapacity: number;
  leaseTtlMs: number;
  nodeTtlMs: number;
  /** ffmpeg reporting no new frame for this long while fed is restarted. */
  ffmpegStallMs: number;
  /** Restarts of one stream's ffmpeg before the stream is failed (`transcoder_failed`). */
  ffmpegMaxRestarts: number;
  /** First restart delay; doubles each restart. */
  ffmpegRestartBackoffMs: number;
  /** An ffmpeg running this long without failing resets the restart count. */
  ffmpegHealthyResetMs: number;
  /** On SIGTERM, how long broadcasters connected here may keep going before they are handed over. */
  shutdownGraceMs: number;
  /** Whole-request limit of the origin's ordinary HTTP requests; the relay (a stream that lives for hours) is exempt. */
  httpRequestTimeoutMs: number;
  /** A relay (either end) that moves no bytes for this long is treated as lost. */
  relayIdleTimeoutMs: number;
  /** Per stream: media waiting for storage beyond this is given up, oldest first, and listed as gaps. */
  uploadQueueMaxBytes: number;
  /** How long a new publish is held while the edge cannot be asked to admit it. */
  grantPatienceMs: number;
  logLevel: string;
  /** The RTMP guard's caps, deadlines and message limits. */
  rtmpGuard: RtmpGuardSettings;
  /** Bearer token for `/metrics` and the detailed `/healthz` from off the host; unset: loopback only. */
  metricsToken: string | undefined;
}>;

/** Thrown when the environment is wrong; its message names every bad key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration from `env` (process.env by default). */
export function loadConfig(env: Record<string, string | undefined> = process.env): OriginConfig {
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join('.')}: ${i.message}`);
    throw new ConfigError(`invalid origin configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  return Object.freeze({
    nodeId: e.NODE_ID,
    bindHost: e.BIND_HOST,
    rtmpPort: e.RTMP_PORT,
    httpPort: e.HTTP_PORT,
    edgeUrl: e.EDGE_URL.replace(/\/$/, ''),
    originSecret: e.ORIGIN_SECRET,
    s3: Object.freeze({
      endpoint: e.S3_ENDPOINT,
      region: e.S3_REGION,
      bucket: e.S3_BUCKET,
      accessKeyId: e.S3_ACCESS_KEY_ID,
      secretAccessKey: e.S3_SECRET_ACCESS_KEY,
      forcePathStyle: e.S3_FORCE_PATH_STYLE,
    }),
    uploadConcurrency: e.UPLOAD_CONCURRENCY,
    ffmpegPath: e.FFMPEG_PATH,
    x264Preset: e.X264_PRESET,
    thumbnailIntervalSeconds: e.THUMBNAIL_INTERVAL_SECONDS,
    workDir: e.WORK_DIR,
    heartbeatMs: e.HEARTBEAT_MS,
    probeTimeoutMs: e.PROBE_TIMEOUT_MS,
    drainTimeoutMs: e.DRAIN_TIMEOUT_MS,
    redisUrl: e.REDIS_URL,
    advertiseHost: e.ADVERTISE_HOST ?? (e.BIND_HOST === '0.0.0.0' ? hostname() : e.BIND_HOST),
    nodeCapacity: e.NODE_CAPACITY,
    clusterCapacity: e.CLUSTER_CAPACITY,
    leaseTtlMs: e.LEASE_TTL_MS,
    nodeTtlMs: e.NODE_TTL_MS,
    ffmpegStallMs: e.FFMPEG_STALL_MS,
    ffmpegMaxRestarts: e.FFMPEG_MAX_RESTARTS,
    ffmpegRestartBackoffMs: e.FFMPEG_RESTART_BACKOFF_MS,
    ffmpegHealthyResetMs: e.FFMPEG_HEALTHY_RESET_MS,
    shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
    httpRequestTimeoutMs: e.HTTP_REQUEST_TIMEOUT_MS,
    relayIdleTimeoutMs: e.RELAY_IDLE_TIMEOUT_MS,
    uploadQueueMaxBytes: e.UPLOAD_QUEUE_MAX_BYTES,
    grantPatienceMs: e.GRANT_PATIENCE_MS,
    logLevel: e.LOG_LEVEL,
    rtmpGuard: Object.freeze({
      maxPerAddress: e.RTMP_MAX_CONNECTIONS_PER_ADDRESS,
      maxTotal: e.RTMP_MAX_CONNECTIONS,
      handshakeTimeoutMs: e.RTMP_HANDSHAKE_TIMEOUT_MS,
      publishTimeoutMs: e.RTMP_PUBLISH_TIMEOUT_MS,
      maxRefusalsPerMinute: DEFAULT_RTMP_GUARD.maxRefusalsPerMinute,
      banMs: DEFAULT_RTMP_GUARD.banMs,
      limits: Object.freeze({ ...DEFAULT_RTMP_LIMITS, maxMessageBytes: e.RTMP_MAX_MESSAGE_BYTES, maxPendingBytes: 2 * e.RTMP_MAX_MESSAGE_BYTES }),
    }),
    metricsToken: e.METRICS_TOKEN,
  });
}
