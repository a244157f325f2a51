/** Viewer sessions and player QoE beacons: the shapes players send to the edge. */
import * as z from 'zod';
import { renditionName } from '../schemas.ts';

/** A viewer session id as it travels in `?sid=`: 8–64 URL-safe characters. */
export const sessionIdSchema = z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, 'session id must be 8-64 of [A-Za-z0-9_-]');

/** Beacons are small by design: a bigger body is refused before it is parsed. */
export const MAX_BEACON_BYTES = 4096;

/**
 * Body of `POST /live/:id/beacon`. Counters are increments since the session's previous beacon,
 * so the edge can sum them; `startupMs` is sent once, in the first beacon after playback starts.
 */
export const beaconSchema = z
  .object({
    sid: sessionIdSchema,
    startupMs: z.number().int().min(0).max(600_000).optional(),
    playedMs: z.number().int().min(0).max(3_600_000).default(0),
    rebufferCount: z.number().int().min(0).max(10_000).default(0),
    rebufferMs: z.number().int().min(0).max(3_600_000).default(0),
    /** Playback errors since the previous beacon (fatal ones, or ones the player had to recover from). */
    errors: z.number().int().min(0).max(1000).default(0),
    switches: z.array(z.object({ from: renditionName, to: renditionName }).strict()).max(50).default([]),
  })
  .strict();
export type Beacon = z.infer<typeof beaconSchema>;
