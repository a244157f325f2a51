/** The edge vars of the fan-out tier, validated once per object or request; a bad one is `internal` naming the key. */
import * as z from 'zod';
import { EdgeliveError } from '../../../shared/src/errors.ts';
import type { Env } from '../env.ts';

const schema = z.object({
  FANOUT_RELAYS: z.coerce.number().int().min(1).max(64).default(8),
  FANOUT_ENGAGE_ISOLATES: z.coerce.number().int().min(2).max(1_000_000).default(32),
  FANOUT_DISENGAGE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
});

/** Fan-out tier settings. */
export interface FanoutSettings {
  /** Relay shards per stream (R_s): the StreamDO's calls from the tier are bounded by this many a second. */
  readonly relays: number;
  /** Isolates a stream must be served from (directly or through shards, seen in the last 10 s) for the tier to engage. */
  readonly engageIsolates: number;
  /** The tier disengages once the stream has been below a quarter of `engageIsolates` this long. */
  readonly disengageMs: number;
}

export function parseFanoutSettings(env: Env): FanoutSettings {
  const parsed = schema.safeParse({ FANOUT_RELAYS: env.FANOUT_RELAYS, FANOUT_ENGAGE_ISOLATES: env.FANOUT_ENGAGE_ISOLATES, FANOUT_DISENGAGE_SECONDS: env.FANOUT_DISENGAGE_SECONDS });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new EdgeliveError('internal', `invalid setting ${issue?.path.join('.') ?? 'settings'}: ${issue?.message ?? 'invalid'}`);
  }
  const s = parsed.data;
  return Object.freeze({ relays: s.FANOUT_RELAYS, engageIsolates: s.FANOUT_ENGAGE_ISOLATES, disengageMs: s.FANOUT_DISENGAGE_SECONDS * 1000 });
}
