import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_STATUS, type ErrorCode } from '../../../shared/src/errors.ts';
import { FlvTagFramer } from '../ingest/flv-tag-framer.ts';
import type { IngestPublish } from '../ingest/rtmp-ingest-server.ts';
import type { RelayClosed } from './relay-protocol.ts';

/** How the relayed body ended: `end` (the broadcaster stopped) or `lost` (the ingest node vanished). */
export type RelayInputEnd = 'end' | 'lost';

/**
 * The transcoding node's side of a relay: an IngestPublish made of an incoming HTTP request, so a
 * LiveStream runs on it exactly as on a local RTMP publish.
 */
export function relayPublish(
  req: IncomingMessage,
  res: ServerResponse,
  streamKey: string,
  onInputEnd: (how: RelayInputEnd, sessionId: string) => void,
): IngestPublish {
  const sessionId = `relay-${randomUUID()}`;
  let answered = false;
  let inputEnded = false;
  const framer = new FlvTagFramer();
  req.on('end', () => {
    inputEnded = true;
    onInputEnd('end', sessionId);
  });
  req.on('close', () => {
    if (!inputEnded) {
      inputEnded = true;
      onInputEnd('lost', sessionId);
    }
  });
  const closeLine = (code: string, reason: string) => {
    if (res.writableEnded || res.destroyed) return;
    const line: RelayClosed = { type: 'closed', code, reason };
    res.end(`${JSON.stringify(line)}\n`);
  };
  return {
    sessionId,
    app: 'live',
    streamKey,
    remoteAddress: String(req.headers['x-edgelive-remote'] ?? req.socket.remoteAddress ?? ''),
    tap(onTag) {
      const onData = (chunk: Buffer) => {
        try {
          for (const tag of framer.push(chunk)) onTag(tag);
        } catch {
          req.destroy();
        }
      };
      req.on('data', onData);
      return () => req.off('data', onData);
    },
    reject(reason, code) {
      if (!answered) {
        answered = true;
        const c = (code && code in ERROR_STATUS ? code : 'upstream_failed') as ErrorCode;
        res.writeHead(ERROR_STATUS[c], { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: c, message: reason } }));
      } else closeLine(code ?? 'closed', reason);
      req.resume(); // drain and drop what is still coming
    },
    onLive(epoch) {
      answered = true;
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      res.write(`${JSON.stringify({ type: 'live', epoch })}\n`);
    },
  };
}

/** Ends a relay answer after its LiveStream finished on its own (drained after the broadcaster stopped). */
export function finishRelay(res: ServerResponse): void {
  if (res.headersSent && !res.writableEnded && !res.destroyed) res.end(`${JSON.stringify({ type: 'closed', code: 'finished', reason: 'publisher stopped' } satisfies RelayClosed)}\n`);
}
