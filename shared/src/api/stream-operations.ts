/** The documented operations under `/v1/streams`: create, list, read, change, end, delete, key, events, feed tokens, playback tokens. */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { createStreamSchema, eventsQuerySchema, feedTokenRequestSchema, listStreamsQuerySchema, playbackTokenRequestSchema, updateStreamSchema } from '../schemas.ts';
import { createdStreamSchema, eventPageSchema, feedTokenAnswerSchema, playbackTokenAnswerSchema, rotatedKeySchema, streamAnswerSchema, streamPageSchema } from './answer-schemas.ts';
import { errorAnswers, json, streamIdParams } from './operation-parts.ts';

/** Each is the request schema the route itself parses with, so the spec cannot differ from what is checked. */
export const streamOperations: RouteConfig[] = [
  {
    method: 'post',
    path: '/v1/streams',
    operationId: 'createStream',
    summary: 'Create a stream',
    description: 'An empty body is allowed. `dvr: true` alone means a 7200 s DVR window; explicit `dvrWindowSeconds` wins.',
    request: { body: { required: false, content: json(createStreamSchema) } },
    responses: { 201: { description: 'The new stream, with its stream key.', content: json(createdStreamSchema) }, ...errorAnswers(400, 401) },
  },
  {
    method: 'get',
    path: '/v1/streams',
    operationId: 'listStreams',
    summary: 'List streams, newest first',
    request: { query: listStreamsQuerySchema },
    responses: { 200: { description: 'A page; pass `nextCursor` as `cursor` for the next one.', content: json(streamPageSchema) }, ...errorAnswers(400, 401) },
  },
  {
    method: 'get',
    path: '/v1/streams/{id}',
    operationId: 'getStream',
    summary: 'One stream: status, renditions, viewers, QoE, ingest health',
    request: { params: streamIdParams },
    responses: { 200: { description: 'The stream.', content: json(streamAnswerSchema) }, ...errorAnswers(401, 404) },
  },
  {
    method: 'patch',
    path: '/v1/streams/{id}',
    operationId: 'updateStream',
    summary: 'Change a stream’s name or reconnect window',
    request: { params: streamIdParams, body: { required: true, content: json(updateStreamSchema) } },
    responses: { 200: { description: 'The stream as `GET` shows it.', content: json(streamAnswerSchema) }, ...errorAnswers(400, 401, 404) },
  },
  {
    method: 'delete',
    path: '/v1/streams/{id}',
    operationId: 'deleteStream',
    summary: 'End and delete a stream; its key stops working at once',
    request: { params: streamIdParams },
    responses: { 204: { description: 'Deleted; its media and storage are purged by the alarm.' }, ...errorAnswers(401, 404) },
  },
  {
    method: 'post',
    path: '/v1/streams/{id}/end',
    operationId: 'endStream',
    summary: 'End a live, reconnecting or failed stream now and disconnect its publisher',
    request: { params: streamIdParams },
    responses: { 200: { description: 'The stream, now `ended`.', content: json(streamAnswerSchema) }, ...errorAnswers(401, 404, 409) },
  },
  {
    method: 'post',
    path: '/v1/streams/{id}/key',
    operationId: 'rotateStreamKey',
    summary: 'Rotate the stream key; the old key stops working at once',
    request: { params: streamIdParams },
    responses: { 200: { description: 'The new key.', content: json(rotatedKeySchema) }, ...errorAnswers(401, 404) },
  },
  {
    method: 'get',
    path: '/v1/streams/{id}/events',
    operationId: 'listStreamEvents',
    summary: 'The stream’s event log; with `Upgrade: websocket`, the live analytics feed',
    description:
      'With `Upgrade: websocket` (admin bearer, or `?token=` a feed token instead) the answer is 101 and the socket carries the analytics feed (docs/analytics-feed.md).',
    request: { params: streamIdParams, query: eventsQuerySchema },
    responses: {
      200: { description: 'A page; `hasMore` when it came back full (ask again with `since=nextSince`).', content: json(eventPageSchema) },
      101: { description: 'WebSocket upgrade to the analytics feed.' },
      ...errorAnswers(400, 401, 404),
    },
  },
  {
    method: 'post',
    path: '/v1/streams/{id}/feed-tokens',
    operationId: 'createFeedToken',
    summary: 'A read-only token for the stream’s analytics feed (at most 4 sockets per token)',
    request: { params: streamIdParams, body: { required: false, content: json(feedTokenRequestSchema) } },
    responses: { 201: { description: 'The token and the feed URL carrying it.', content: json(feedTokenAnswerSchema) }, ...errorAnswers(400, 401, 404) },
  },
  {
    method: 'post',
    path: '/v1/streams/{id}/playback-tokens',
    operationId: 'createPlaybackToken',
    summary: 'A short-lived playback token for a `signed` stream, and the live and recorded playback URLs carrying it',
    description: 'Hand the URLs to one viewer. A `public` stream plays without a token: asking for one is 409 `conflict`.',
    request: { params: streamIdParams, body: { required: false, content: json(playbackTokenRequestSchema) } },
    responses: {
      201: { description: 'The token (a JWT), when it expires, and the URLs carrying `?token=`.', content: json(playbackTokenAnswerSchema) },
      ...errorAnswers(400, 401, 404, 409, 500),
    },
  },
];
