import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from './env.ts';
import { parseSettings } from './settings.ts';

const bindings = { STREAM_DO: env.STREAM_DO, STREAM_REGISTRY: env.STREAM_REGISTRY, CDN_HEALTH: env.CDN_HEALTH, FLEET_ANALYTICS: env.FLEET_ANALYTICS, MEDIA: env.MEDIA, WEBHOOK_HUB: env.WEBHOOK_HUB, STREAM_SHARD: env.STREAM_SHARD };

const CDN_A = { id: 'a', baseUrl: 'https://cdn-a.example.com/', weight: 2, healthUrl: 'https://cdn-a.example.com/health' };

describe('parseSettings', () => {
  it('parses the CDN list, trimming the base URL, and the CDN knobs', () => {
    const settings = parseSettings({ ...bindings, CDNS: JSON.stringify([CDN_A]), CDN_HASH_KEY: 'segment', CDN_PROBE_INTERVAL_SECONDS: '2' });
    expect(settings.cdns).toEqual([{ ...CDN_A, baseUrl: 'https://cdn-a.example.com' }]);
    expect(settings.cdnHashKey).toBe('segment');
    expect(settings.cdnProbeIntervalSeconds).toBe(2);
    expect(parseSettings({ ...bindings, CDNS: '' }).cdns).toEqual([]);
  });

  it('applies the documented defaults and freezes the result', () => {
    const settings = parseSettings(bindings);
    expect(settings).toEqual({
      ingestUrl: 'rtmp://127.0.0.1:1935/live',
      publicBaseUrl: '',
      originPullUrl: 'http://127.0.0.1:8100/media',
      endedRetentionSeconds: 300,
      playlistWindowSegments: 8,
      livenessTimeoutSeconds: 5,
      cdns: [],
      cdnHashKey: 'session',
      cdnProbeIntervalSeconds: 10,
      cdnProbeTimeoutMs: 2000,
      cdnDownAfterFailures: 2,
      cdnUpAfterSuccesses: 2,
      cdnErrorThreshold: 5,
      cdnErrorWindowSeconds: 30,
      cdnHealthCacheSeconds: 2,
      reconnectWindowSeconds: 60,
      signatureMaxSkewSeconds: 60,
      eventRetentionSeconds: 604_800,
      analyticsRetentionDays: 30,
      adminToken: null,
      originSecret: null,
      streamIdSecret: null,
      playbackSigningKeys: null,
      environment: 'production',
    });
    expect(Object.isFrozen(settings)).toBe(true);
  });

  it('reads the playback signing keys: the current one, and the previous one only beside it', () => {
    const current = 'c'.repeat(32);
    const previous = 'p'.repeat(32);
    expect(parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY: current }).playbackSigningKeys).toEqual({ current, previous: null });
    expect(parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY: current, PLAYBACK_SIGNING_KEY_PREVIOUS: previous }).playbackSigningKeys).toEqual({ current, previous });
    expect(() => parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY_PREVIOUS: previous })).toThrow(
      'invalid setting PLAYBACK_SIGNING_KEY_PREVIOUS: set only beside PLAYBACK_SIGNING_KEY (the key it was rotated out for)',
    );
    expect(() => parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY: 'short' })).toThrow('invalid setting PLAYBACK_SIGNING_KEY: must be at least 32 characters outside local development (EDGELIVE_ENV=development), got 5');
    expect(() => parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY: current, PLAYBACK_SIGNING_KEY_PREVIOUS: 'short' })).toThrow('invalid setting PLAYBACK_SIGNING_KEY_PREVIOUS: must be at least 32 characters');
    expect(parseSettings({ ...bindings, PLAYBACK_SIGNING_KEY: 'short', EDGELIVE_ENV: 'development' }).playbackSigningKeys).toEqual({ current: 'short', previous: null });
  });

  it('reads vars and secrets, trimming trailing slashes off base URLs', () => {
    const settings = parseSettings({
      ...bindings,
      INGEST_URL: 'rtmps://ingest.example.com:443/live',
      PUBLIC_BASE_URL: 'https://cdn.example.com/',
      ORIGIN_PULL_URL: 'https://origin.example.com/media/',
      ENDED_RETENTION_SECONDS: '0',
      PLAYLIST_WINDOW_SEGMENTS: '6',
      LIVENESS_TIMEOUT_SECONDS: '10',
      RECONNECT_WINDOW_SECONDS: '0',
      SIGNATURE_MAX_SKEW_SECONDS: '5',
      EVENT_RETENTION_SECONDS: '3600',
      ANALYTICS_RETENTION_DAYS: '7',
      ADMIN_TOKEN: 'a',
      ORIGIN_SECRET: '',
      EDGELIVE_ENV: 'development',
    });
    expect(settings).toMatchObject({
      ingestUrl: 'rtmps://ingest.example.com:443/live',
      publicBaseUrl: 'https://cdn.example.com',
      originPullUrl: 'https://origin.example.com/media',
      endedRetentionSeconds: 0,
      playlistWindowSegments: 6,
      livenessTimeoutSeconds: 10,
      reconnectWindowSeconds: 0,
      signatureMaxSkewSeconds: 5,
      eventRetentionSeconds: 3600,
      analyticsRetentionDays: 7,
      adminToken: 'a',
      originSecret: null,
      environment: 'development',
    });
  });

  it('refuses secrets shorter than 32 characters outside local development, naming the secret', () => {
    const long = 'k'.repeat(32);
    expect(() => parseSettings({ ...bindings, ADMIN_TOKEN: long, ORIGIN_SECRET: 'short-secret' })).toThrow(
      'invalid setting ORIGIN_SECRET: must be at least 32 characters outside local development (EDGELIVE_ENV=development), got 12',
    );
    expect(() => parseSettings({ ...bindings, ADMIN_TOKEN: 'x'.repeat(31), ORIGIN_SECRET: long })).toThrow('invalid setting ADMIN_TOKEN: must be at least 32 characters');
    expect(parseSettings({ ...bindings, ADMIN_TOKEN: long, ORIGIN_SECRET: long })).toMatchObject({ adminToken: long, originSecret: long, streamIdSecret: long, environment: 'production' });
    expect(parseSettings({ ...bindings, ADMIN_TOKEN: 'a', ORIGIN_SECRET: 'b', EDGELIVE_ENV: 'development' })).toMatchObject({ adminToken: 'a', originSecret: 'b' });
  });

  it.each<[Partial<Env>, string]>([
    [{ PLAYLIST_WINDOW_SEGMENTS: 'eight' }, 'invalid setting PLAYLIST_WINDOW_SEGMENTS: Invalid input: expected number, received NaN'],
    [{ PLAYLIST_WINDOW_SEGMENTS: '2' }, 'invalid setting PLAYLIST_WINDOW_SEGMENTS: Too small: expected number to be >=3'],
    [{ LIVENESS_TIMEOUT_SECONDS: '0' }, 'invalid setting LIVENESS_TIMEOUT_SECONDS: Too small: expected number to be >=1'],
    [{ RECONNECT_WINDOW_SECONDS: '3601' }, 'invalid setting RECONNECT_WINDOW_SECONDS: Too big: expected number to be <=3600'],
    [{ SIGNATURE_MAX_SKEW_SECONDS: '0' }, 'invalid setting SIGNATURE_MAX_SKEW_SECONDS: Too small: expected number to be >=1'],
    [{ EVENT_RETENTION_SECONDS: '10' }, 'invalid setting EVENT_RETENTION_SECONDS: Too small: expected number to be >=60'],
    [{ INGEST_URL: 'http://x/live' }, 'invalid setting INGEST_URL: must be an rtmp:// or rtmps:// application URL without a trailing slash'],
    [{ ORIGIN_PULL_URL: 'ftp://origin/media' }, 'invalid setting ORIGIN_PULL_URL: Invalid URL'],
    [{ CDN_HASH_KEY: 'viewer' }, 'invalid setting CDN_HASH_KEY: Invalid option: expected one of "session"|"stream"|"segment"'],
    [{ ANALYTICS_RETENTION_DAYS: '0' }, 'invalid setting ANALYTICS_RETENTION_DAYS: Too small: expected number to be >=1'],
    [{ ANALYTICS_RETENTION_DAYS: 'a month' }, 'invalid setting ANALYTICS_RETENTION_DAYS: Invalid input: expected number, received NaN'],
    [{ CDN_PROBE_INTERVAL_SECONDS: '0' }, 'invalid setting CDN_PROBE_INTERVAL_SECONDS: Too small: expected number to be >=1'],
    [{ CDNS: '{"id":"a"}' }, 'invalid setting CDNS: must be a JSON array of {"id","baseUrl","weight","healthUrl"}'],
    [{ CDNS: '[{"id":"a"' }, 'invalid setting CDNS: not valid JSON'],
    [{ CDNS: JSON.stringify([CDN_A, { ...CDN_A, id: 'b', baseUrl: 'cdn-b.example.com' }]) }, 'invalid setting CDNS: entry 1 (id "b") baseUrl: Invalid URL'],
    [{ CDNS: JSON.stringify([{ ...CDN_A, weight: 0 }]) }, 'invalid setting CDNS: entry 0 (id "a") weight: Too small: expected number to be >0'],
    [{ CDNS: JSON.stringify([{ ...CDN_A, id: 'a b' }]) }, 'invalid setting CDNS: entry 0 (id "a b") id: must be 1-32 letters, digits, "_", "." or "-"'],
    [{ CDNS: JSON.stringify([{ baseUrl: CDN_A.baseUrl, weight: 1, healthUrl: CDN_A.healthUrl }]) }, 'invalid setting CDNS: entry 0 id: Invalid input: expected string, received undefined'],
    [{ CDNS: JSON.stringify([CDN_A, { ...CDN_A }]) }, 'invalid setting CDNS: entry 1 (id "a") id: duplicate id'],
    [{ CDNS: JSON.stringify([{ ...CDN_A, region: 'eu' }]) }, 'invalid setting CDNS: entry 0 (id "a") entry: Unrecognized key: "region"'],
  ])('names the key of a bad value: %o', (vars, message) => {
    expect(() => parseSettings({ ...bindings, ...vars })).toThrow(message);
  });
});
