/**
 * Stream ids that carry their own proof of issue: 10 random characters followed by a 6-character
 * tag (HMAC-SHA256 keyed by the edge's secret, mapped onto the id alphabet). The edge checks the
 * tag before any Durable Object is addressed, so a made-up id costs a hash, not an object
 * (one guess in 36⁶ ≈ 2·10⁹ passes the check, and then only reaches an empty object).
 */
import { hmacTag } from '../signing/hmac-tag.ts';
import { isStreamId, newStreamId, STREAM_ID_LENGTH } from './stream-key.ts';

const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
/** Characters of the tag at the end of an id. */
export const STREAM_ID_TAG_LENGTH = 6;
const RANDOM_LENGTH = STREAM_ID_LENGTH - STREAM_ID_TAG_LENGTH;
// Keeps id tags apart from any other tag made with the same secret.
const DOMAIN = 'edgelive-stream-id-v1';

async function tagOf(secret: string, random: string): Promise<string> {
  const raw = atob((await hmacTag(secret, DOMAIN, random, 12)).replace(/-/g, '+').replace(/_/g, '/'));
  let tag = '';
  for (let i = 0; i < STREAM_ID_TAG_LENGTH; i++) tag += ID_ALPHABET[raw.charCodeAt(i) % ID_ALPHABET.length];
  return tag;
}

/** A fresh stream id whose tag `secret` proves. */
export async function newSignedStreamId(secret: string): Promise<string> {
  const random = newStreamId().slice(0, RANDOM_LENGTH);
  return random + (await tagOf(secret, random));
}

/** True when `id` is well-formed and its tag matches `secret`. */
export async function isSignedStreamId(secret: string, id: string): Promise<boolean> {
  if (!isStreamId(id)) return false;
  // Not secret-dependent timing worth hiding: the tag is only a filter against guessed ids.
  return id.slice(RANDOM_LENGTH) === (await tagOf(secret, id.slice(0, RANDOM_LENGTH)));
}
