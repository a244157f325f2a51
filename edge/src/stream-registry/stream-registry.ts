import { DurableObject } from 'cloudflare:workers';
import type { StreamStatus } from '../../../shared/src/types.ts';
import { fail, ok, type DoResult } from '../stream-do/do-result.ts';
import type { Env } from '../env.ts';
import type { RegistryMetrics, StreamMetricsSummary } from '../metrics/stream-metrics-summary.ts';
import { decodeCursor, encodeCursor } from './registry-cursor.ts';

/** Name of the single registry instance (`idFromName`). */
export const REGISTRY_NAME = 'registry';

/** One stream as the listing shows it. */
export interface StreamSummary {
  id: string;
  name: string | null;
  status: StreamStatus;
  createdAt: number;
  updatedAt: number;
}

/** What a StreamDO reports after each change; `version` orders reports that race each other. */
export interface RegistryReport extends StreamSummary {
  version: number;
  deleted: boolean;
  /** Viewers, QoE and live-edge age, sent with status changes and every few seconds while live. */
  metrics?: StreamMetricsSummary | undefined;
}

/** A page of the listing. */
export interface StreamPage {
  streams: StreamSummary[];
  nextCursor: string | null;
}

interface EntryRow extends Record<string, SqlStorageValue> {
  id: string;
  name: string | null;
  status: string;
  created_at: number;
  updated_at: number;
}

/**
 * Listing index of all streams, fed by the StreamDOs. It is never the authority: each StreamDO
 * owns its stream's state and re-reports it here after every change, so a stale row is repaired by
 * the next report. Deleted streams stay as hidden tombstones so a late report cannot revive them.
 */
export class StreamRegistry extends DurableObject<Env> {
  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    void ctx.blockConcurrencyWhile(async () => {
      ctx.storage.sql.exec(`
        CREATE TABLE IF NOT EXISTS streams (
          id TEXT PRIMARY KEY,
          name TEXT,
          status TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          updated_at INTEGER NOT NULL,
          version INTEGER NOT NULL,
          deleted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX IF NOT EXISTS streams_newest ON streams (deleted, created_at DESC, id DESC);
        CREATE TABLE IF NOT EXISTS stream_metrics (
          id TEXT PRIMARY KEY,
          at INTEGER NOT NULL,
          summary TEXT NOT NULL
        );
      `);
    });
  }

  /** Records a StreamDO's report unless a newer one already arrived. */
  report(r: RegistryReport): void {
    this.ctx.storage.sql.exec(
      `INSERT INTO streams (id, name, status, created_at, updated_at, version, deleted) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET name = excluded.name, status = excluded.status, updated_at = excluded.updated_at,
         version = excluded.version, deleted = excluded.deleted
       WHERE excluded.version > streams.version AND streams.deleted = 0`,
      r.id,
      r.name,
      r.status,
      r.createdAt,
      r.updatedAt,
      r.version,
      r.deleted ? 1 : 0,
    );
    // Summaries are snapshots, not state changes: the newest one wins whatever the version.
    if (r.deleted) this.ctx.storage.sql.exec('DELETE FROM stream_metrics WHERE id = ?', r.id);
    else if (r.metrics) {
      this.ctx.storage.sql.exec(
        `INSERT INTO stream_metrics (id, at, summary) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET at = excluded.at, summary = excluded.summary WHERE excluded.at >= stream_metrics.at`,
        r.id,
        r.metrics.at,
        JSON.stringify(r.metrics),
      );
    }
  }

  /** Stream counts by status and the summaries of the live streams, for one metrics scrape. */
  metrics(): RegistryMetrics {
    const statusCounts: Partial<Record<StreamStatus, number>> = {};
    for (const row of this.ctx.storage.sql.exec<{ status: string; n: number }>('SELECT status, COUNT(*) AS n FROM streams WHERE deleted = 0 GROUP BY status')) {
      statusCounts[row.status as StreamStatus] = row.n;
    }
    const live = this.ctx.storage.sql
      .exec<{ id: string; summary: string }>(
        `SELECT m.id, m.summary FROM stream_metrics m JOIN streams s ON s.id = m.id
         WHERE s.deleted = 0 AND s.status = 'live' ORDER BY m.id`,
      )
      .toArray()
      .map((row) => ({ id: row.id, summary: JSON.parse(row.summary) as StreamMetricsSummary }));
    return { statusCounts, live };
  }

  /** Newest first, optionally one status, `limit` per page; the cursor continues after the last row. */
  list(query: { status?: StreamStatus | undefined; limit: number; cursor?: string | undefined }): DoResult<StreamPage> {
    const after = query.cursor === undefined ? null : decodeCursor(query.cursor);
    if (after === undefined) return fail('bad_request', 'cursor: not a cursor from a previous page');
    const clauses = ['deleted = 0'];
    const params: SqlStorageValue[] = [];
    if (query.status) {
      clauses.push('status = ?');
      params.push(query.status);
    }
    if (after) {
      clauses.push('(created_at < ? OR (created_at = ? AND id < ?))');
      params.push(after.createdAt, after.createdAt, after.id);
    }
    const rows = this.ctx.storage.sql
      .exec<EntryRow>(
        `SELECT id, name, status, created_at, updated_at FROM streams WHERE ${clauses.join(' AND ')}
         ORDER BY created_at DESC, id DESC LIMIT ?`,
        ...params,
        query.limit + 1,
      )
      .toArray();
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return ok({
      streams: page.map((r) => ({ id: r.id, name: r.name, status: r.status as StreamStatus, createdAt: r.created_at, updatedAt: r.updated_at })),
      nextCursor: rows.length > query.limit && last ? encodeCursor({ createdAt: last.created_at, id: last.id }) : null,
    });
  }
}

/** The single registry instance. */
export function registryStub(env: Env): DurableObjectStub<StreamRegistry> {
  return env.STREAM_REGISTRY.get(env.STREAM_REGISTRY.idFromName(REGISTRY_NAME));
}
