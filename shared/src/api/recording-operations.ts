/** The documented operations under `/v1/streams/{id}/recordings`. */
import type { RouteConfig } from '@asteasolutions/zod-to-openapi';
import { recordingAnswerSchema, recordingListSchema } from './answer-schemas.ts';
import { errorAnswers, json, recordingParams, streamIdParams } from './operation-parts.ts';

/** Recordings of streams created with `record: true`. */
export const recordingOperations: RouteConfig[] = [
  {
    method: 'get',
    path: '/v1/streams/{id}/recordings',
    operationId: 'listRecordings',
    summary: 'Recordings of a stream, newest first',
    request: { params: streamIdParams },
    responses: { 200: { description: 'The recordings.', content: json(recordingListSchema) }, ...errorAnswers(401, 404) },
  },
  {
    method: 'get',
    path: '/v1/streams/{id}/recordings/{rid}',
    operationId: 'getRecording',
    summary: 'One recording, with VOD playback and MP4 download URLs once ready',
    request: { params: recordingParams },
    responses: { 200: { description: 'The recording.', content: json(recordingAnswerSchema) }, ...errorAnswers(401, 404) },
  },
  {
    method: 'delete',
    path: '/v1/streams/{id}/recordings/{rid}',
    operationId: 'deleteRecording',
    summary: 'Delete a recording; playback stops at once, the alarm purges it',
    request: { params: recordingParams },
    responses: { 202: { description: 'The recording, now `deleted`.', content: json(recordingAnswerSchema) }, ...errorAnswers(401, 404) },
  },
];
