import type { FleetAnalytics } from './analytics/fleet-analytics.ts';
import type { StreamShard } from './fanout/stream-shard.ts';
import type { CdnHealth } from './cdn/cdn-health.ts';
import type { StreamDO } from './stream-do/stream-do.ts';
import type { StreamRegistry } from './stream-registry/stream-registry.ts';
import type { WebhookHub } from './webhooks/webhook-hub.ts';

/** Bindings, vars and secrets of the edge Worker (see wrangler.toml and docs/edge.md). */
export interface Env {
  /** One Durable Object per stream, named by the stream id: the authority for its state. */
  STREAM_DO: DurableObjectNamespace<StreamDO>;
  /** The single listing index behind `GET /v1/streams`. */
  STREAM_REGISTRY: DurableObjectNamespace<StreamRegistry>;
  /** The single CdnHealth object (`idFromName("global")`): probes CDNs, holds their health. */
  CDN_HEALTH: DurableObjectNamespace<CdnHealth>;
  /** The single FleetAnalytics object (`idFromName("global")`): per-minute totals over all streams. */
  FLEET_ANALYTICS: DurableObjectNamespace<FleetAnalytics>;
  /** Fan-out shards of popular streams (fanout/stream-shard.ts), named by shard-names.ts. */
  STREAM_SHARD: DurableObjectNamespace<StreamShard>;
  /**
   * Where the relay shards are, when not in STREAM_SHARD (shard-stub.ts). Unset in wrangler.toml:
   * only the scale simulation's second workerd binds it, to another Worker's shards, so its own
   * edge shards reach the first workerd's relays (bench/sim-isolates.wrangler.toml).
   */
  RELAY_SHARD?: DurableObjectNamespace<StreamShard>;
  /** The single WebhookHub (`idFromName("global")`): endpoints and the delivery queue. */
  WEBHOOK_HUB: DurableObjectNamespace<WebhookHub>;
  /** Media bytes the origin uploaded (`live/<id>/<rendition>/<file>`). */
  MEDIA: R2Bucket;
  /** Static assets (edge/public): the watch page and the players it loads. */
  ASSETS?: Fetcher;
  // Vars arrive as strings (or are missing); settings.ts validates them once per request.
  INGEST_URL?: string;
  PUBLIC_BASE_URL?: string;
  ORIGIN_PULL_URL?: string;
  ENDED_RETENTION_SECONDS?: string;
  PLAYLIST_WINDOW_SEGMENTS?: string;
  LIVENESS_TIMEOUT_SECONDS?: string;
  /** JSON array of `{"id","baseUrl","weight","healthUrl"}` (cdn/cdn-config.ts). */
  CDNS?: string;
  CDN_HASH_KEY?: string;
  CDN_PROBE_INTERVAL_SECONDS?: string;
  CDN_PROBE_TIMEOUT_MS?: string;
  CDN_DOWN_AFTER_FAILURES?: string;
  CDN_UP_AFTER_SUCCESSES?: string;
  CDN_ERROR_THRESHOLD?: string;
  CDN_ERROR_WINDOW_SECONDS?: string;
  CDN_HEALTH_CACHE_SECONDS?: string;
  RECONNECT_WINDOW_SECONDS?: string;
  SIGNATURE_MAX_SKEW_SECONDS?: string;
  EVENT_RETENTION_SECONDS?: string;
  /** Days per-minute analytics rollups are kept (default 30). */
  ANALYTICS_RETENTION_DAYS?: string;
  /** DVR retention and recordings (recordings/media-settings.ts). */
  MEDIA_DELETE_URL?: string;
  MEDIA_PURGE_DELAY_SECONDS?: string;
  RECORDING_RETENTION_SECONDS?: string;
  /** The fan-out tier (fanout/fanout-settings.ts): relay shards per stream, when it engages and disengages. */
  FANOUT_RELAYS?: string;
  FANOUT_ENGAGE_ISOLATES?: string;
  FANOUT_DISENGAGE_SECONDS?: string;
  /** Webhook delivery (webhooks/webhook-settings.ts): first retry wait, per-attempt timeout. */
  WEBHOOK_RETRY_BASE_SECONDS?: string;
  WEBHOOK_TIMEOUT_SECONDS?: string;
  /** Secret: bearer token of the management API. */
  ADMIN_TOKEN?: string;
  /** Secret: HMAC key shared with the origin for the internal API. */
  ORIGIN_SECRET?: string;
  /** Secret (optional): key of the tag in stream ids; defaults to ORIGIN_SECRET. */
  STREAM_ID_SECRET?: string;
  /** Secret: HS256 key of playback tokens for `signed` streams (playback/playback-token.ts). */
  PLAYBACK_SIGNING_KEY?: string;
  /** Secret (optional, during a rotation): the key PLAYBACK_SIGNING_KEY replaced; its tokens verify until they expire. */
  PLAYBACK_SIGNING_KEY_PREVIOUS?: string;
  /** `development` accepts secrets shorter than 32 characters (local stack, tests). */
  EDGELIVE_ENV?: string;
}

type EdgeEnv = Env;

declare global {
  namespace Cloudflare {
    // Lets `env` from `cloudflare:workers` / `cloudflare:test` carry the edge's bindings.
    interface Env extends EdgeEnv {}
  }
}
