import { availableParallelism, hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

/** The keys that have no default. */
const REQUIRED = { ORIGIN_SECRET: 'sixteen-chars-ok', S3_ACCESS_KEY_ID: 'AKIDEXAMPLE', S3_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI', EDGELIVE_ENV: 'development' };

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loadConfig accepted the environment');
}

describe('loadConfig', () => {
  it('fills every default around the required keys', () => {
    expect(loadConfig(REQUIRED)).toEqual({
      nodeId: `${hostname()}-${process.pid}`,
      bindHost: '127.0.0.1',
      rtmpPort: 1935,
      httpPort: 8100,
      edgeUrl: 'http://127.0.0.1:8787',
      originSecret: 'sixteen-chars-ok',
      s3: {
        endpoint: undefined,
        region: 'auto',
        bucket: 'edgelive-media',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI',
        forcePathStyle: true,
      },
      uploadConcurrency: 8,
      ffmpegPath: undefined,
      x264Preset: 'veryfast',
      thumbnailIntervalSeconds: 10,
      workDir: undefined,
      heartbeatMs: 1000,
      probeTimeoutMs: 1500,
      drainTimeoutMs: 1500,
      redisUrl: undefined,
      advertiseHost: '127.0.0.1',
      nodeCapacity: availableParallelism(),
      clusterCapacity: 100,
      leaseTtlMs: 3000,
      nodeTtlMs: 3000,
      ffmpegStallMs: 10_000,
      ffmpegMaxRestarts: 3,
      ffmpegRestartBackoffMs: 500,
      ffmpegHealthyResetMs: 60_000,
      shutdownGraceMs: 10_000,
      httpRequestTimeoutMs: 300_000,
      relayIdleTimeoutMs: 10_000,
      uploadQueueMaxBytes: 64 * 1024 * 1024,
      grantPatienceMs: 15_000,
      logLevel: 'info',
      rtmpGuard: { maxPerAddress: 8, maxTotal: 64, handshakeTimeoutMs: 5000, publishTimeoutMs: 10_000, maxRefusalsPerMinute: 5, banMs: 60_000, limits: { maxChunkSize: 65_536, maxMessageBytes: 4 * 1024 * 1024, maxPendingBytes: 8 * 1024 * 1024, maxChunkStreams: 16 } },
      metricsToken: undefined,
    });
  });

  it('takes every override, coercing numbers and booleans, and drops a trailing slash from EDGE_URL', () => {
    expect(
      loadConfig({
        ...REQUIRED,
        NODE_ID: 'origin-7',
        BIND_HOST: '0.0.0.0',
        RTMP_PORT: '19350',
        HTTP_PORT: '0',
        EDGE_URL: 'https://edge.example.com/',
        S3_ENDPOINT: 'http://127.0.0.1:4569',
        S3_REGION: 'eu-west-1',
        S3_BUCKET: 'media-test',
        S3_FORCE_PATH_STYLE: 'false',
        UPLOAD_CONCURRENCY: '16',
        FFMPEG_PATH: '/usr/bin/ffmpeg',
        X264_PRESET: 'ultrafast',
        THUMBNAIL_INTERVAL_SECONDS: '5',
        WORK_DIR: '/var/lib/edgelive',
        HEARTBEAT_MS: '500',
        PROBE_TIMEOUT_MS: '3000',
        DRAIN_TIMEOUT_MS: '10000',
        REDIS_URL: 'redis://10.0.0.5:6379',
        ADVERTISE_HOST: 'origin-7.internal',
        NODE_CAPACITY: '6',
        CLUSTER_CAPACITY: '40',
        LEASE_TTL_MS: '4000',
        NODE_TTL_MS: '5000',
        FFMPEG_STALL_MS: '8000',
        FFMPEG_MAX_RESTARTS: '2',
        FFMPEG_RESTART_BACKOFF_MS: '250',
        FFMPEG_HEALTHY_RESET_MS: '20000',
        SHUTDOWN_GRACE_MS: '30000',
        HTTP_REQUEST_TIMEOUT_MS: '5000',
        RELAY_IDLE_TIMEOUT_MS: '4000',
        UPLOAD_QUEUE_MAX_BYTES: '8388608',
        GRANT_PATIENCE_MS: '2000',
        LOG_LEVEL: 'debug',
        UNRELATED: 'ignored',
      }),
    ).toEqual({
      nodeId: 'origin-7',
      bindHost: '0.0.0.0',
      rtmpPort: 19350,
      httpPort: 0,
      edgeUrl: 'https://edge.example.com',
      originSecret: 'sixteen-chars-ok',
      s3: {
        endpoint: 'http://127.0.0.1:4569',
        region: 'eu-west-1',
        bucket: 'media-test',
        accessKeyId: 'AKIDEXAMPLE',
        secretAccessKey: 'wJalrXUtnFEMI',
        forcePathStyle: false,
      },
      uploadConcurrency: 16,
      ffmpegPath: '/usr/bin/ffmpeg',
      x264Preset: 'ultrafast',
      thumbnailIntervalSeconds: 5,
      workDir: '/var/lib/edgelive',
      heartbeatMs: 500,
      probeTimeoutMs: 3000,
      drainTimeoutMs: 10000,
      redisUrl: 'redis://10.0.0.5:6379',
      advertiseHost: 'origin-7.internal',
      nodeCapacity: 6,
      clusterCapacity: 40,
      leaseTtlMs: 4000,
      nodeTtlMs: 5000,
      ffmpegStallMs: 8000,
      ffmpegMaxRestarts: 2,
      ffmpegRestartBackoffMs: 250,
      ffmpegHealthyResetMs: 20_000,
      shutdownGraceMs: 30000,
      httpRequestTimeoutMs: 5000,
      relayIdleTimeoutMs: 4000,
      uploadQueueMaxBytes: 8_388_608,
      grantPatienceMs: 2000,
      logLevel: 'debug',
      rtmpGuard: { maxPerAddress: 8, maxTotal: 64, handshakeTimeoutMs: 5000, publishTimeoutMs: 10_000, maxRefusalsPerMinute: 5, banMs: 60_000, limits: { maxChunkSize: 65_536, maxMessageBytes: 4 * 1024 * 1024, maxPendingBytes: 8 * 1024 * 1024, maxChunkStreams: 16 } },
      metricsToken: undefined,
    });
  });

  it('returns a frozen object with a frozen s3 section', () => {
    const config = loadConfig(REQUIRED);
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.s3)).toBe(true);
    expect(() => {
      (config as { rtmpPort: number }).rtmpPort = 1;
    }).toThrow(TypeError);
    expect(config.rtmpPort).toBe(1935);
  });

  it('names RTMP_PORT when it is not a number', () => {
    const err = configError({ ...REQUIRED, RTMP_PORT: 'abc' });
    expect(err.name).toBe('ConfigError');
    expect(err.message).toBe('invalid origin configuration:\n  RTMP_PORT: must be a port number (0-65535)');
  });

  it('refuses an empty port rather than binding a random one', () => {
    expect(configError({ ...REQUIRED, HTTP_PORT: '' }).message).toBe('invalid origin configuration:\n  HTTP_PORT: must be a port number (0-65535)');
  });

  it('refuses URLs without an http(s) scheme, naming the key', () => {
    expect(configError({ ...REQUIRED, EDGE_URL: 'localhost:8787' }).message).toBe('invalid origin configuration:\n  EDGE_URL: must be an http:// or https:// URL');
    expect(configError({ ...REQUIRED, S3_ENDPOINT: 'localhost:4569' }).message).toBe('invalid origin configuration:\n  S3_ENDPOINT: must be an http:// or https:// URL');
  });

  it('names ORIGIN_SECRET when it is missing', () => {
    expect(configError({ S3_ACCESS_KEY_ID: 'a', S3_SECRET_ACCESS_KEY: 'b' }).message).toBe(
      'invalid origin configuration:\n  ORIGIN_SECRET: Invalid input: expected string, received undefined',
    );
  });

  it('refuses an ORIGIN_SECRET under 32 characters outside local development', () => {
    expect(configError({ ...REQUIRED, EDGELIVE_ENV: 'production' }).message).toBe(
      'invalid origin configuration:\n  ORIGIN_SECRET: ORIGIN_SECRET must be at least 32 characters outside local development (EDGELIVE_ENV=development), got 16',
    );
    expect(loadConfig({ ...REQUIRED, EDGELIVE_ENV: undefined, ORIGIN_SECRET: 'x'.repeat(32) }).originSecret).toBe('x'.repeat(32));
  });

  it('names ORIGIN_SECRET when it is shorter than 16 characters', () => {
    expect(configError({ ...REQUIRED, ORIGIN_SECRET: 'fifteen-chars!!' }).message).toBe(
      'invalid origin configuration:\n  ORIGIN_SECRET: ORIGIN_SECRET must be at least 16 characters (shared with the edge)',
    );
  });

  it('names every bad key at once, one a line', () => {
    expect(configError({}).message).toBe(
      [
        'invalid origin configuration:',
        '  ORIGIN_SECRET: Invalid input: expected string, received undefined',
        '  S3_ACCESS_KEY_ID: Invalid input: expected string, received undefined',
        '  S3_SECRET_ACCESS_KEY: Invalid input: expected string, received undefined',
      ].join('\n'),
    );
  });

  it('uses the required-key messages for empty S3 credentials', () => {
    expect(configError({ ...REQUIRED, S3_ACCESS_KEY_ID: '', S3_SECRET_ACCESS_KEY: '' }).message).toBe(
      'invalid origin configuration:\n  S3_ACCESS_KEY_ID: S3_ACCESS_KEY_ID is required\n  S3_SECRET_ACCESS_KEY: S3_SECRET_ACCESS_KEY is required',
    );
  });

  it.each([
    ['HTTP_PORT', '65536'],
    ['RTMP_PORT', '-1'],
    ['RTMP_PORT', '1935.5'],
    ['EDGE_URL', 'edge.example.com'],
    ['S3_ENDPOINT', 'http://'],
    ['S3_BUCKET', 'ab'],
    ['S3_FORCE_PATH_STYLE', 'yes'],
    ['UPLOAD_CONCURRENCY', '0'],
    ['UPLOAD_CONCURRENCY', '65'],
    ['X264_PRESET', 'slow'],
    ['HEARTBEAT_MS', '199'],
    ['PROBE_TIMEOUT_MS', '10001'],
    ['DRAIN_TIMEOUT_MS', '99'],
    ['LOG_LEVEL', 'verbose'],
    ['NODE_ID', 'x'.repeat(101)],
  ])('refuses %s=%s and names it', (key, value) => {
    const lines = configError({ ...REQUIRED, [key]: value }).message.split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('invalid origin configuration:');
    expect(lines[1]!.startsWith(`  ${key}: `)).toBe(true);
  });
});
