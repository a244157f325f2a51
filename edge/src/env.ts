import type { StreamDO } from './stream-do/stream-do.ts';
import type { StreamRegistry } from './stream-registry/stream-registry.ts';

/** Bindings, vars and secrets of the edge Worker (see wrangler.toml and docs/edge.md). */
export interface Env {
  /** One Durable Object per stream, named by the stream id: the authority for its state. */
  STREAM_DO: DurableObjectNamespace<StreamDO>;
  /** The single listing index behind `GET /v1/streams`. */
  STREAM_REGISTRY: DurableObjectNamespace<StreamRegistry>;
  /** Media bytes the origin uploaded (`live/<id>/<rendition>/<file>`). */
  MEDIA: R2Bucket;
  // Vars arrive as strings (or are missing); settings.ts validates them once per request.
  INGEST_URL?: string;
  PUBLIC_BASE_URL?: string;
  ORIGIN_PULL_URL?: string;
  ENDED_RETENTION_SECONDS?: string;
  PLAYLIST_WINDOW_SEGMENTS?: string;
  LIVENESS_TIMEOUT_SECONDS?: string;
  RESUME_GRACE_SECONDS?: string;
  EVENT_RETENTION_SECONDS?: string;
  /** Secret: bearer token of the management API. */
  ADMIN_TOKEN?: string;
  /** Secret: HMAC key shared with the origin for the internal API. */
  ORIGIN_SECRET?: string;
}

type EdgeEnv = Env;

declare global {
  namespace Cloudflare {
    // Lets `env` from `cloudflare:workers` / `cloudflare:test` carry the edge's bindings.
    interface Env extends EdgeEnv {}
  }
}
