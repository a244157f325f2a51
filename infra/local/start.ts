import { join } from 'node:path';
import pino from 'pino';
import { parseCdnList } from '../../edge/src/cdn/cdn-config.ts';
import { DEFAULT_PORTS, startLocalStack } from './local-stack.ts';
import { REPO_ROOT } from './wrangler-dev.ts';

/**
 * `npm start`: the whole edgelive path on this machine with embedded defaults, then the URLs to
 * publish to and to watch. Ctrl-C stops everything. Ports come from EDGE_PORT, RTMP_PORT,
 * HTTP_PORT and S3_PORT when set; state persists in .edgelive/ (delete it to start afresh).
 */
const env = process.env;
const port = (name: string, fallback: number) => {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    console.error(`${name}=${raw} is not a TCP port`);
    process.exit(2);
  }
  return n;
};

// `npm start -- --origins 3`: a local cluster (redis-server + one process per origin node).
const originsArg = process.argv.indexOf('--origins');
const origins = originsArg >= 0 ? Number(process.argv[originsArg + 1]) : 1;
if (!Number.isInteger(origins) || origins < 1 || origins > 16) {
  console.error('--origins takes a number of origin nodes from 1 to 16');
  process.exit(2);
}

// CDNS (JSON array of {"id","baseUrl","weight","healthUrl"}) and the CDN_* knobs go to the edge as
// vars; the list is checked here too so a typo fails at start-up, naming the entry and field.
const edgeVars: Record<string, string> = {};
for (const [name, value] of Object.entries(env)) if (name.startsWith('CDN') && value !== undefined) edgeVars[name] = value;
try {
  parseCdnList(edgeVars.CDNS);
} catch (err) {
  console.error(`edgelive: ${(err as Error).message}`);
  process.exit(2);
}

const logger = pino({ level: env.LOG_LEVEL ?? 'info' });
const generatedToken = !env.ADMIN_TOKEN;
console.log(
  origins === 1
    ? 'edgelive: starting the local stack (S3 server on loopback, edge under workerd, one origin node)…'
    : `edgelive: starting the local stack (S3 server on loopback, edge under workerd, redis-server, ${origins} origin nodes)…`,
);
const stack = await startLocalStack({
  ports: {
    edge: port('EDGE_PORT', DEFAULT_PORTS.edge),
    rtmp: port('RTMP_PORT', DEFAULT_PORTS.rtmp),
    originHttp: port('HTTP_PORT', DEFAULT_PORTS.originHttp),
    s3: port('S3_PORT', DEFAULT_PORTS.s3),
    inspector: port('INSPECTOR_PORT', DEFAULT_PORTS.inspector),
  },
  ...(env.ADMIN_TOKEN ? { adminToken: env.ADMIN_TOKEN } : {}),
  ...(env.ORIGIN_SECRET ? { originSecret: env.ORIGIN_SECRET } : {}),
  ...(env.PLAYBACK_SIGNING_KEY ? { playbackSigningKey: env.PLAYBACK_SIGNING_KEY } : {}),
  dataDir: env.EDGELIVE_DATA_DIR ?? join(REPO_ROOT, '.edgelive'),
  edgeVars,
  logger,
  origins,
}).catch((err: unknown) => {
  console.error(`edgelive: the local stack failed to start: ${(err as Error).message}`);
  process.exit(1);
});

const e = stack.edgeUrl;
const t = stack.adminToken;
console.log(`
edgelive is running.

  edge (API + playback)  ${e}   (API description: ${e}/v1/openapi.json)
  RTMP ingest            ${stack.rtmpUrl}/<streamKey>
${
  stack.origins.length
    ? `  redis                  ${stack.redis!.url}\n${stack.origins.map((o) => `  ${o.nodeId} (pid ${o.pid})   RTMP ${o.rtmpUrl}   HTTP ${o.httpUrl}/healthz /readyz /metrics`).join('\n')}`
    : `  origin health/metrics  ${stack.originHttpUrl}/healthz  ${stack.originHttpUrl}/metrics`
}
  S3 server (loopback)   ${stack.s3.endpoint}  bucket ${stack.s3.bucket}
  admin token            ${t}${generatedToken ? '   (generated; set ADMIN_TOKEN to choose one)' : ''}

1. Create a stream:
   curl -s -X POST ${e}/v1/streams -H 'authorization: Bearer ${t}' -H 'content-type: application/json' -d '{"name":"my first stream"}'

2. Publish with OBS (Server: ${stack.rtmpUrl}, Stream Key: the streamKey above) or ffmpeg:
   ffmpeg -re -f lavfi -i testsrc2=size=1280x720:rate=30 -f lavfi -i sine=frequency=440 \\
     -c:v libx264 -preset veryfast -tune zerolatency -g 60 -b:v 2500k -c:a aac -b:a 128k \\
     -f flv ${stack.rtmpUrl}/<streamKey>

3. Watch in a browser at ${e}/watch/<id> (?player=dash for DASH), or with VLC, ffplay or Safari:
   ffplay ${e}/live/<id>/master.m3u8

Ctrl-C stops everything.
`);

let stopping = false;
const stop = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  console.log(`\nedgelive: ${signal} received, stopping…`);
  await stack.close();
  console.log('edgelive: stopped.');
  process.exit(0);
};
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
