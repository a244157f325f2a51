/** The edge vars of webhook delivery, validated once per WebhookHub; the error names the key. */
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { Env } from '../env.ts';

const schema = z.object({
  WEBHOOK_RETRY_BASE_SECONDS: z.coerce.number().int().min(1).max(300).default(5),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(30).default(15),
});

/** Webhook delivery settings. */
export interface WebhookSettings {
  /** The first retry's wait; each next one is 6× longer, at most an hour (retry-schedule.ts). */
  readonly retryBaseSeconds: number;
  /** How long one attempt may take before it counts as failed (the spec recommends 15–30 s). */
  readonly timeoutMs: number;
}

/** Parses the vars; a bad one is `internal` naming the key, like settings.ts. */
export function parseWebhookSettings(env: Env): WebhookSettings {
  const parsed = schema.safeParse({ WEBHOOK_RETRY_BASE_SECONDS: env.WEBHOOK_RETRY_BASE_SECONDS, WEBHOOK_TIMEOUT_SECONDS: env.WEBHOOK_TIMEOUT_SECONDS });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeliveError('internal', `invalid setting ${issue?.path.join('.') ?? 'settings'}: ${issue?.message ?? 'invalid'}`);
  }
  return Object.freeze({ retryBaseSeconds: parsed.data.WEBHOOK_RETRY_BASE_SECONDS, timeoutMs: parsed.data.WEBHOOK_TIMEOUT_SECONDS * 1000 });
}
