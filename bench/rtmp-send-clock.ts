import net from 'node:net';
import { RtmpChunkInspector } from '../origin/src/ingest/rtmp-chunk-inspector.ts';

/** RTMP message type of a video frame (RTMP 1.0 §7.1.5). */
const VIDEO = 9;

/**
 * A loopback pass-through between a publisher and the RTMP port that notes when each video frame
 * left the publisher: the wall time the last byte of each video message passed, by its RTMP
 * timestamp. The pipeline bench measures "last frame sent → listed" from these times, so neither
 * the publisher's start-up nor its pacing counts for or against the system.
 */
export interface RtmpSendClock {
  /** `rtmp://127.0.0.1:<port>` followed by `path`. */
  url(path: string): string;
  /** Wall time (ms) the last video frame with an RTMP timestamp ≤ `timestamp` passed, if one did. */
  sentAt(timestamp: number): number | undefined;
  /** RTMP timestamp of the first video frame seen. */
  readonly firstVideoTimestamp: number | undefined;
  readonly videoFrames: number;
  close(): Promise<void>;
}

/** Starts the pass-through in front of `target` (one publisher at a time). */
export async function startRtmpSendClock(target: { host: string; port: number }): Promise<RtmpSendClock> {
  const frames: { timestamp: number; at: number }[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.add(client).add(upstream);
    const inspector = new RtmpChunkInspector(undefined, (m) => {
      if (m.type === VIDEO) frames.push({ timestamp: m.timestamp, at: Date.now() });
    });
    client.on('data', (bytes) => {
      inspector.push(bytes);
      upstream.write(bytes);
    });
    upstream.pipe(client);
    const end = () => { client.destroy(); upstream.destroy(); };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    url: (path) => `rtmp://127.0.0.1:${port}${path}`,
    sentAt(timestamp) {
      // Frames arrive in timestamp order: the last one at or before `timestamp`, by bisection.
      let lo = 0;
      let hi = frames.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (frames[mid]!.timestamp <= timestamp) lo = mid + 1;
        else hi = mid;
      }
      return lo === 0 ? undefined : frames[lo - 1]!.at;
    },
    get firstVideoTimestamp() {
      return frames[0]?.timestamp;
    },
    get videoFrames() {
      return frames.length;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
