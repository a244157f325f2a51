import { EdgeliveError } from '../../../shared/src/errors.ts';

/**
 * True when the edge answered that it no longer wants this publish's writes: a stale epoch (another
 * publish replaced it, or its key was rotated), an ended, deleted or unknown stream. Such a refusal
 * ends the publish. Everything else — network errors, 5xx, rate limits, and a refused signature
 * (a clock-skew or secret problem an operator must fix, logged loudly) — is an outage to wait out.
 */
export function isEdgeRefusal(err: unknown): err is EdgeliveError {
  if (!(err instanceof EdgeliveError)) return false;
  if (err.code === 'unauthorized' || err.code === 'rate_limited') return false;
  return err.status >= 400 && err.status < 500;
}
