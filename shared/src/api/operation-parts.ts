/** Pieces every documented operation is built from: JSON bodies, error answers, path parameters. */
import type { ResponseConfig, ZodContentObject } from '@asteasolutions/zod-to-openapi';
import * as z from 'zod';
import { errorBodySchema } from './answer-schemas.ts';

/** `content` of a JSON body with `schema`. */
export function json(schema: z.ZodType): ZodContentObject {
  return { 'application/json': { schema } };
}

/** What each error status means on the management API (the code is in the body). */
const ERROR_MEANING = {
  400: 'Bad input: `bad_request`, the message names each bad field.',
  401: 'Missing or wrong bearer token: `unauthorized`.',
  404: 'No such stream (`stream_not_found`), recording or webhook endpoint (`not_found`).',
  409: 'Not in a state that allows it: `invalid_transition` (a stream’s status) or `conflict` (a public stream’s token, the 51st webhook endpoint).',
  500: 'The edge cannot do it: `internal` (for playback tokens: `PLAYBACK_SIGNING_KEY` is not set).',
} as const;

/** The error answers of an operation, each with the `{error: {code, message}}` body. */
export function errorAnswers(...statuses: (keyof typeof ERROR_MEANING)[]): Record<number, ResponseConfig> {
  return Object.fromEntries(statuses.map((s) => [s, { description: ERROR_MEANING[s], content: json(errorBodySchema) }]));
}

/** Path parameter of a stream. */
export const streamIdParams = z.object({ id: z.string().meta({ description: 'Stream id: 16 of [a-z0-9] (10 random, then a 6-character tag).' }) });

/** Path parameters of one recording of a stream. */
export const recordingParams = streamIdParams.extend({ rid: z.string().meta({ description: 'Recording id.' }) });

/** Path parameter of a webhook endpoint. */
export const webhookIdParams = z.object({ id: z.string().meta({ description: 'Webhook endpoint id: `wh_` + 16 of [a-z0-9].' }) });
