/** `POST /live/:id/cdn-errors`: a player reports a failed request on a CDN (passive health signal). */
import type { Context } from 'hono';
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { AppEnv } from '../app-env.ts';
import { parseJsonBody } from '../http/parse-json-body.ts';
import { readBodyAtMost } from '../http/read-body-at-most.ts';
import { waitUntil } from '../http/wait-until.ts';
import { zodErrorMessage } from '../http/zod-error-message.ts';
import { isolateMetrics } from '../metrics/isolate-metrics.ts';
import { errorBeacons } from './error-beacons.ts';
import { sessionIdSchema } from '../../../shared/src/viewers/beacon.ts';
import { isSignedSession } from '../viewers/signed-session.ts';

/** A beacon is a few dozen bytes; anything near this is not one. */
export const MAX_BEACON_BYTES = 1024;

const beaconSchema = z.strictObject({
  cdn: z.string().min(1).max(32),
  sid: sessionIdSchema,
  /** What failed: the request never got an answer, took too long, or got a 4xx/5xx. */
  kind: z.enum(['network', 'timeout', 'http']),
});

/** Validates, rate-limits per session and queues one error beacon; 204 when counted. */
export async function acceptErrorBeacon(c: Context<AppEnv>): Promise<Response> {
  const settings = c.var.settings;
  if (settings.cdns.length === 0) throw new EdgeliveError('not_found', 'no CDN is configured');
  const bytes = await readBodyAtMost(c.req.raw, MAX_BEACON_BYTES);
  if (bytes === null) throw new EdgeliveError('payload_too_large', `a beacon is at most ${MAX_BEACON_BYTES} bytes`);
  const parsed = beaconSchema.safeParse(parseJsonBody(bytes));
  if (!parsed.success) throw new EdgeliveError('bad_request', zodErrorMessage(parsed.error));
  const beacon = parsed.data;
  if (!settings.cdns.some((cdn) => cdn.id === beacon.cdn)) throw new EdgeliveError('bad_request', `cdn: unknown CDN "${beacon.cdn}"`);
  // Only sessions the edge signed vote on a CDN's health, and each counts once (error-beacons.ts).
  if (!(await isSignedSession(settings.originSecret, beacon.sid))) throw new EdgeliveError('forbidden', 'sid: session id was not issued by this edge');
  const now = Date.now();
  if (!errorBeacons.allow(beacon.sid, now)) throw new EdgeliveError('rate_limited', `session ${beacon.sid} sent too many beacons; retry later`);
  isolateMetrics.cdnErrorBeacon(beacon.cdn, beacon.kind);
  const flush = errorBeacons.add(c.env, beacon.cdn, beacon.sid, now);
  if (flush) waitUntil(c, flush, 'cdn error beacon flush');
  return new Response(null, { status: 204 });
}
