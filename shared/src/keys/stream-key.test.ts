import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  SECRET_LENGTH,
  STREAM_ID_LENGTH,
  formatStreamKey,
  hashKeySecret,
  isStreamId,
  newKeySecret,
  newStreamId,
  parseStreamKey,
  timingSafeEqualHex,
} from './stream-key.ts';

const ID = 'abc123def456gh78';
const SECRET = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345';

describe('lengths', () => {
  it('are 16 for ids and 32 for secrets', () => {
    expect(STREAM_ID_LENGTH).toBe(16);
    expect(SECRET_LENGTH).toBe(32);
    expect(ID).toHaveLength(16);
    expect(SECRET).toHaveLength(32);
  });
});

describe('newStreamId', () => {
  it('makes 16 lowercase letters and digits that isStreamId accepts', () => {
    for (let i = 0; i < 50; i++) {
      const id = newStreamId();
      expect(id).toMatch(/^[a-z0-9]{16}$/);
      expect(isStreamId(id)).toBe(true);
    }
  });

  it('does not repeat itself', () => {
    expect(new Set(Array.from({ length: 100 }, newStreamId)).size).toBe(100);
  });
});

describe('newKeySecret', () => {
  it('makes 32 base62 characters', () => {
    for (let i = 0; i < 50; i++) expect(newKeySecret()).toMatch(/^[A-Za-z0-9]{32}$/);
  });

  it('does not repeat itself', () => {
    expect(new Set(Array.from({ length: 100 }, newKeySecret)).size).toBe(100);
  });
});

describe('isStreamId', () => {
  it('accepts exactly 16 of [a-z0-9]', () => {
    expect(isStreamId(ID)).toBe(true);
    expect(isStreamId('0000000000000000')).toBe(true);
  });

  it('refuses other lengths, upper case, punctuation and the empty string', () => {
    expect(isStreamId('abc123def456gh7')).toBe(false);
    expect(isStreamId('abc123def456gh789')).toBe(false);
    expect(isStreamId('Abc123def456gh78')).toBe(false);
    expect(isStreamId('abc123def456gh7-')).toBe(false);
    expect(isStreamId(`${ID}\n`)).toBe(false);
    expect(isStreamId('')).toBe(false);
  });
});

describe('formatStreamKey / parseStreamKey', () => {
  it('joins id and secret with one underscore', () => {
    expect(formatStreamKey(ID, SECRET)).toBe('abc123def456gh78_AbCdEfGhIjKlMnOpQrStUvWxYz012345');
  });

  it('round-trips', () => {
    expect(parseStreamKey(formatStreamKey(ID, SECRET))).toEqual({ streamId: ID, secret: SECRET });
  });

  it('round-trips freshly generated parts', () => {
    const streamId = newStreamId();
    const secret = newKeySecret();
    expect(parseStreamKey(formatStreamKey(streamId, secret))).toEqual({ streamId, secret });
  });

  it.each([
    ['empty', ''],
    ['only the id', ID],
    ['no secret', `${ID}_`],
    ['no id', `_${SECRET}`],
    ['id one short', `${ID.slice(1)}_${SECRET}`],
    ['id one long', `${ID}x_${SECRET}`],
    ['secret one short', `${ID}_${SECRET.slice(1)}`],
    ['secret one long', `${ID}_${SECRET}x`],
    ['extra underscore in the secret', `${ID}_${SECRET.slice(0, 16)}_${SECRET.slice(16)}`],
    ['extra underscore at the end', `${ID}_${SECRET}_`],
    ['double underscore', `${ID}__${SECRET}`],
    ['upper case in the id', `${ID.toUpperCase()}_${SECRET}`],
    ['dash in the secret', `${ID}_${SECRET.slice(0, 31)}-`],
    ['non-ASCII letter in the secret', `${ID}_${SECRET.slice(0, 31)}é`],
    ['trailing newline', `${ID}_${SECRET}\n`],
    ['leading space', ` ${ID}_${SECRET}`],
    ['dash instead of underscore', `${ID}-${SECRET}`],
  ])('refuses a key with %s', (_label, key) => {
    expect(parseStreamKey(key)).toBeNull();
  });
});

describe('hashKeySecret', () => {
  it('is the hex SHA-256 of the secret, as node:crypto computes it', async () => {
    expect(await hashKeySecret(SECRET)).toBe(createHash('sha256').update(SECRET).digest('hex'));
  });

  it('matches the published SHA-256 test vector for "abc"', async () => {
    expect(await hashKeySecret('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('hashes the empty string', async () => {
    expect(await hashKeySecret('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('timingSafeEqualHex', () => {
  it('is true for equal strings', async () => {
    const h = await hashKeySecret(SECRET);
    expect(timingSafeEqualHex(h, `${h}`)).toBe(true);
    expect(timingSafeEqualHex('', '')).toBe(true);
  });

  it('is false when one character differs, first or last', () => {
    expect(timingSafeEqualHex('0abc', '1abc')).toBe(false);
    expect(timingSafeEqualHex('abc0', 'abc1')).toBe(false);
  });

  it('is case-sensitive', () => {
    expect(timingSafeEqualHex('abcd', 'ABCD')).toBe(false);
  });

  it('is false for different lengths, even when one is a prefix of the other', () => {
    expect(timingSafeEqualHex('abcd', 'abcde')).toBe(false);
    expect(timingSafeEqualHex('', 'a')).toBe(false);
  });
});
