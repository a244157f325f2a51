export { default } from './worker.ts';
export { FleetAnalytics } from './analytics/fleet-analytics.ts';
export { StreamShard } from './fanout/stream-shard.ts';
export { CdnHealth } from './cdn/cdn-health.ts';
export { StreamDO } from './stream-do/stream-do.ts';
export { StreamRegistry } from './stream-registry/stream-registry.ts';
export { WebhookHub } from './webhooks/webhook-hub.ts';
