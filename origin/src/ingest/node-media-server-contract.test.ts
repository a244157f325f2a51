/**
 * Contract test for the node-media-server internals `rtmp-ingest-server.ts` reaches into: the
 * events it listens to, the session fields it reads, `broadcast.postPlay/donePlay/publishGraceMs`
 * and the logger module it reroutes. None of these are public API, so the dependency is pinned
 * exactly; if an upgrade moves any of them, this test fails with the name of what moved.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../infra/local/free-port.ts';
import { resolveFfmpeg } from '../transcode/ffmpeg-binary.ts';

const require = createRequire(import.meta.url);
const ROOT = resolve(import.meta.dirname, '../../..');
const PINNED = '4.4.3';

interface Session {
  id: unknown;
  ip: unknown;
  streamApp: unknown;
  streamName: unknown;
  streamPath: unknown;
  close: unknown;
  broadcast: { publishGraceMs: unknown; postPlay: (s: object) => string | null; donePlay: (s: object) => void; publisher: unknown; _finishPublish: unknown };
}
interface Nms {
  run(): Promise<void>;
  stop(): Promise<void>;
  on(event: string, fn: (s: Session) => void): void;
}

const workDir = mkdtempSync(join(tmpdir(), 'edgelive-nms-contract-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

describe(`node-media-server ${PINNED} contract`, () => {
  it('is pinned exactly, and the installed copy is that version', () => {
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
    const installed = JSON.parse(readFileSync(require.resolve('node-media-server/package.json'), 'utf8')) as { version: string };
    expect(ours.dependencies['node-media-server']).toBe(PINNED);
    expect(installed.version).toBe(PINNED);
  });

  it('keeps its logger at node-media-server/src/core/logger.js with a replaceable log(message, level)', () => {
    const logger = require('node-media-server/src/core/logger.js') as { log: unknown };
    expect(typeof logger.log).toBe('function');
    const original = logger.log;
    const seen: unknown[][] = [];
    logger.log = (...args: unknown[]) => void seen.push(args);
    try {
      (require('node-media-server/src/core/logger.js') as { error: (m: string) => void }).error('probe');
    } finally {
      logger.log = original;
    }
    expect(seen).toEqual([['probe', 'error']]);
  });

  it('emits postPublish/donePublish with the session fields and a broadcast that takes an in-process FLV subscriber', async () => {
    const port = await freePort();
    const NodeMediaServer = require('node-media-server') as new (config: object) => Nms;
    const nms = new NodeMediaServer({ bind: '127.0.0.1', rtmp: { port }, store: { path: join(workDir, 'store') } });
    const received: Buffer[] = [];
    const published = new Promise<{ session: Session; grace: unknown; playAnswer: string | null; publisherAtEvent: unknown; finishPublish: string }>((resolvePublish) => {
      nms.on('postPublish', (session) => {
        // A second publish of the same key replaces a half-open first one (rtmp-ingest-server.ts):
        // it reads the path's current publisher during this event and ends it with _finishPublish.
        const publisherAtEvent = session.broadcast.publisher;
        const finishPublish = typeof session.broadcast._finishPublish;
        const grace = session.broadcast.publishGraceMs;
        session.broadcast.publishGraceMs = 0;
        const subscriber = { id: 'contract-tap', ip: '', protocol: 'flv', streamPath: session.streamPath, sendBuffer: (b: Buffer) => received.push(Buffer.from(b)), close: () => {} };
        const playAnswer = session.broadcast.postPlay(subscriber);
        setTimeout(() => session.broadcast.donePlay(subscriber), 500);
        resolvePublish({ session, grace, playAnswer, publisherAtEvent, finishPublish });
      });
    });
    const unpublished = new Promise<unknown>((resolveDone) => nms.on('donePublish', (session) => resolveDone(session.id)));
    await nms.run();
    const publisher = spawn(resolveFfmpeg(process.env.FFMPEG_PATH).path, [
      '-hide_banner', '-loglevel', 'error', '-re',
      '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=10', '-t', '2',
      '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '10', '-f', 'flv', `rtmp://127.0.0.1:${port}/live/contractkey`,
    ], { stdio: 'ignore' });
    try {
      const { session, grace, playAnswer, publisherAtEvent, finishPublish } = await published;
      expect({ publisherAtEvent, finishPublish }).toEqual({ publisherAtEvent: null, finishPublish: 'function' });
      expect({ id: typeof session.id, ip: typeof session.ip, close: typeof session.close }).toEqual({ id: 'string', ip: 'string', close: 'function' });
      expect({ app: session.streamApp, name: session.streamName, path: session.streamPath }).toEqual({ app: 'live', name: 'contractkey', path: '/live/contractkey' });
      expect(session.ip).toMatch(/^(::ffff:)?127\.0\.0\.1:\d+$/);
      expect(typeof grace).toBe('number');
      expect(playAnswer).toBeNull();
      expect(await unpublished).toBe(session.id);
      // The subscriber got the FLV file header first, then tags.
      expect(Buffer.concat(received).subarray(0, 3).toString('latin1')).toBe('FLV');
      expect(received.length).toBeGreaterThan(3);
    } finally {
      publisher.kill('SIGKILL');
      await nms.stop();
    }
  });
});
