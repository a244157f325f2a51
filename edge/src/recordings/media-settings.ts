/** The edge vars of DVR retention and recordings, validated once per StreamDO; the error names the key. */
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { DEFAULT_RECORDING_RETENTION_SECONDS } from '../../../shared/src/schemas.ts';
import type { Env } from '../env.ts';

const schema = z.object({
  /** Empty: media are deleted through the R2 binding only (production). Else also by a signed call to this origin route (the local stack, whose media live in an S3 server the binding cannot see). */
  MEDIA_DELETE_URL: z.union([z.literal(''), z.url({ protocol: /^https?$/ })]).default(''),
  MEDIA_PURGE_DELAY_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  RECORDING_RETENTION_SECONDS: z.coerce.number().int().min(10).max(31_536_000).default(DEFAULT_RECORDING_RETENTION_SECONDS),
});

/** DVR retention and recording settings. */
export interface MediaSettings {
  /** The origin's signed delete route, or null (R2 binding only). */
  readonly mediaDeleteUrl: string | null;
  /** How long a segment that slid out of the live index stays in storage. */
  readonly purgeDelayMs: number;
  /** Default retention of finished recordings. */
  readonly recordingRetentionSeconds: number;
}

/** Parses the vars; a bad one is `internal` naming the key, like settings.ts. */
export function parseMediaSettings(env: Env): MediaSettings {
  const parsed = schema.safeParse({
    MEDIA_DELETE_URL: env.MEDIA_DELETE_URL,
    MEDIA_PURGE_DELAY_SECONDS: env.MEDIA_PURGE_DELAY_SECONDS,
    RECORDING_RETENTION_SECONDS: env.RECORDING_RETENTION_SECONDS,
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeliveError('internal', `invalid setting ${issue?.path.join('.') ?? 'settings'}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  return Object.freeze({
    mediaDeleteUrl: s.MEDIA_DELETE_URL || null,
    purgeDelayMs: s.MEDIA_PURGE_DELAY_SECONDS * 1000,
    recordingRetentionSeconds: s.RECORDING_RETENTION_SECONDS,
  });
}
