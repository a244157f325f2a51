/** The stream row as callers may see it: a missing or deleted stream is `stream_not_found`. Pure. */
import { EdgeliveError } from '../../../shared/src/errors.ts';
import { fail, ok, type DoResult } from './do-result.ts';
import type { StreamRow } from './stream-schema.ts';

/** The row if the stream exists and is not deleted, else a `stream_not_found` refusal. */
export function existingStream(row: StreamRow | null): DoResult<StreamRow> {
  return row && row.deleted_at === null ? ok(row) : fail('stream_not_found', 'stream not found');
}

/** The row, or a thrown `stream_not_found` (for use inside writes, which turn it into the answer). */
export function requireStream(row: StreamRow | null): StreamRow {
  const existing = existingStream(row);
  if (!existing.ok) throw new EdgeliveError(existing.code, existing.message);
  return existing.value;
}
