/**
 * Test-only: the cheapest RTMP publish attempt — handshake, `connect`, `createStream`, `publish`
 * with a given key, no media — resolving with how the server ended it. Lets the abuse suite make
 * hundreds of wrong-key publishes without an ffmpeg each.
 */
import { createConnection } from 'node:net';

function amfString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  return Buffer.concat([Buffer.from([0x02, b.length >> 8, b.length & 0xff]), b]);
}
function amfNumber(n: number): Buffer {
  const b = Buffer.alloc(9);
  b[0] = 0x00;
  b.writeDoubleBE(n, 1);
  return b;
}
function amfObject(o: Record<string, string>): Buffer {
  const parts: Buffer[] = [Buffer.from([0x03])];
  for (const [k, v] of Object.entries(o)) parts.push(Buffer.from([k.length >> 8, k.length & 0xff]), Buffer.from(k), amfString(v));
  parts.push(Buffer.from([0, 0, 0x09]));
  return Buffer.concat(parts);
}
const AMF_NULL = Buffer.from([0x05]);

/** One command message in a single type-0 chunk (payloads here are under the 128-byte default chunk size). */
function command(csid: number, streamId: number, payload: Buffer): Buffer {
  const h = Buffer.alloc(12);
  h[0] = csid;
  h.writeUIntBE(payload.length, 4, 3);
  h[7] = 20;
  h.writeUInt32LE(streamId, 8);
  return Buffer.concat([h, payload]);
}

/** How the attempt ended: the server closed it (and after how long), or it was still open at the deadline. */
export interface PublishAttempt {
  outcome: 'closed' | 'refused_at_connect' | 'timeout';
  ms: number;
}

/** Publishes `key` to `rtmp://host:port/live` and waits up to `timeoutMs` for the server to close the connection. */
export function attemptPublish(host: string, port: number, key: string, timeoutMs = 5000): Promise<PublishAttempt> {
  const started = Date.now();
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let received = Buffer.alloc(0);
    let sent = false;
    let handshook = false;
    const done = (outcome: PublishAttempt['outcome']) => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ outcome, ms: Date.now() - started });
    };
    const timer = setTimeout(() => done('timeout'), timeoutMs);
    socket.on('connect', () => {
      sent = true;
      socket.write(Buffer.concat([Buffer.from([3]), Buffer.alloc(1536)]));
    });
    socket.on('data', (bytes: Buffer) => {
      if (handshook) return;
      received = Buffer.concat([received, bytes]);
      if (received.length < 3073) return;
      handshook = true;
      const s1 = received.subarray(1, 1537);
      socket.write(
        Buffer.concat([
          s1,
          command(3, 0, Buffer.concat([amfString('connect'), amfNumber(1), amfObject({ app: 'live', type: 'nonprivate', tcUrl: `rtmp://${host}:${port}/live` })])),
          command(3, 0, Buffer.concat([amfString('createStream'), amfNumber(2), AMF_NULL])),
          command(8, 1, Buffer.concat([amfString('publish'), amfNumber(3), AMF_NULL, amfString(key), amfString('live')])),
        ]),
      );
    });
    socket.on('close', () => done(sent && handshook ? 'closed' : 'refused_at_connect'));
    socket.on('error', () => {});
  });
}
