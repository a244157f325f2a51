import { env } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';
import type { Env } from './env.ts';
import { parseSettings } from './settings.ts';

const bindings = { STREAM_DO: env.STREAM_DO, STREAM_REGISTRY: env.STREAM_REGISTRY, MEDIA: env.MEDIA };

describe('parseSettings', () => {
  it('applies the documented defaults and freezes the result', () => {
    const settings = parseSettings(bindings);
    expect(settings).toEqual({
      ingestUrl: 'rtmp://127.0.0.1:1935/live',
      publicBaseUrl: '',
      originPullUrl: 'http://127.0.0.1:8100/media',
      endedRetentionSeconds: 300,
      playlistWindowSegments: 8,
      livenessTimeoutSeconds: 5,
      resumeGraceSeconds: 30,
      eventRetentionSeconds: 604_800,
      adminToken: null,
      originSecret: null,
    });
    expect(Object.isFrozen(settings)).toBe(true);
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
      RESUME_GRACE_SECONDS: '0',
      EVENT_RETENTION_SECONDS: '3600',
      ADMIN_TOKEN: 'a',
      ORIGIN_SECRET: '',
    });
    expect(settings).toMatchObject({
      ingestUrl: 'rtmps://ingest.example.com:443/live',
      publicBaseUrl: 'https://cdn.example.com',
      originPullUrl: 'https://origin.example.com/media',
      endedRetentionSeconds: 0,
      playlistWindowSegments: 6,
      livenessTimeoutSeconds: 10,
      resumeGraceSeconds: 0,
      eventRetentionSeconds: 3600,
      adminToken: 'a',
      originSecret: null,
    });
  });

  it.each<[Partial<Env>, string]>([
    [{ PLAYLIST_WINDOW_SEGMENTS: 'eight' }, 'invalid setting PLAYLIST_WINDOW_SEGMENTS: Invalid input: expected number, received NaN'],
    [{ PLAYLIST_WINDOW_SEGMENTS: '2' }, 'invalid setting PLAYLIST_WINDOW_SEGMENTS: Too small: expected number to be >=3'],
    [{ LIVENESS_TIMEOUT_SECONDS: '0' }, 'invalid setting LIVENESS_TIMEOUT_SECONDS: Too small: expected number to be >=1'],
    [{ EVENT_RETENTION_SECONDS: '10' }, 'invalid setting EVENT_RETENTION_SECONDS: Too small: expected number to be >=60'],
    [{ INGEST_URL: 'http://x/live' }, 'invalid setting INGEST_URL: must be an rtmp:// or rtmps:// application URL without a trailing slash'],
    [{ ORIGIN_PULL_URL: 'ftp://origin/media' }, 'invalid setting ORIGIN_PULL_URL: Invalid URL'],
  ])('names the key of a bad value: %o', (vars, message) => {
    expect(() => parseSettings({ ...bindings, ...vars })).toThrow(message);
  });
});
