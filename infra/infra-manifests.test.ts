/**
 * The deployment files (container, Kubernetes, compose, systemd) checked against the origin's own
 * configuration schema: every env key they set is one the origin reads, the values pass its
 * validation, ports and probes match what the origin listens on and serves, secrets are only
 * referenced, and each stop timeout covers the origin's drain.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { configSchema, loadConfig } from '../origin/src/config.ts';
import { JOB_EXIT_WAIT_MS } from '../origin/src/transcode/transcoder.ts';

const INFRA = import.meta.dirname;
const ROOT = resolve(INFRA, '..');
const KNOWN_KEYS = new Set(Object.keys(configSchema.shape));
/** Set for Node itself, not read by the origin's config. */
const RUNTIME_KEYS = new Set(['NODE_ENV']);
const SECRET_KEYS = ['ORIGIN_SECRET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];
/** Stand-ins for values deployment files leave to secrets, the platform or the operator. */
const SECRET_STANDINS = { ORIGIN_SECRET: 'test-secret-0123456789-abcdefghijk', S3_ACCESS_KEY_ID: 'key-id', S3_SECRET_ACCESS_KEY: 'secret' };
/** bench:origin, full ladder encoded: CPU seconds per second of media, per stream. */
const CPU_SECONDS_PER_MEDIA_SECOND = 0.5;

/** How long a SIGTERM'd origin may take, from its settings: broadcasters' grace, ffmpeg's drain, its last segment. */
function drainBudgetMs(env: Record<string, string | undefined>): number {
  const c = loadConfig({ ...SECRET_STANDINS, ...env });
  return c.shutdownGraceMs + c.drainTimeoutMs + JOB_EXIT_WAIT_MS;
}

function expectOnlyKnownKeys(keys: Iterable<string>): void {
  const unknown = [...keys].filter((k) => !KNOWN_KEYS.has(k) && !RUNTIME_KEYS.has(k));
  expect(unknown, 'keys origin/src/config.ts does not read').toEqual([]);
}

/** `30s`, `1m30s` → ms (compose durations). */
function durationMs(text: string): number {
  let ms = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) ms += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms' | 's' | 'm' | 'h'];
  return ms;
}

/** A Dockerfile as instructions (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): { op: string; args: string }[] {
  const joined = text.replace(/\\\n/g, ' ');
  return joined
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [op, ...rest] = l.split(/\s+/);
      return { op: op!.toUpperCase(), args: rest.join(' ') };
    });
}

describe('infra/origin/Dockerfile', () => {
  const instructions = parseDockerfile(readFileSync(join(INFRA, 'origin/Dockerfile'), 'utf8'));
  const ops = (op: string) => instructions.filter((i) => i.op === op).map((i) => i.args);
  const env = Object.fromEntries(ops('ENV').flatMap((a) => [...a.matchAll(/([A-Z0-9_]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!])));

  it('parses into known instructions only', () => {
    const known = new Set(['FROM', 'RUN', 'WORKDIR', 'COPY', 'ENV', 'USER', 'EXPOSE', 'HEALTHCHECK', 'STOPSIGNAL', 'ENTRYPOINT', 'CMD']);
    expect(instructions.filter((i) => !known.has(i.op))).toEqual([]);
  });

  it('runs Node 22 on Debian slim with ffmpeg and tini from apt, as a non-root user', () => {
    expect(ops('FROM')).toEqual(['node:22-bookworm-slim']);
    expect(ops('RUN').join(' ')).toMatch(/apt-get install -y --no-install-recommends ffmpeg tini/);
    expect(ops('USER')).toEqual(['node']);
    expect(ops('ENTRYPOINT')).toEqual(['["/usr/bin/tini", "--"]']);
    expect(ops('CMD')).toEqual(['["node", "origin/src/main.ts"]']);
    expect(ops('STOPSIGNAL')).toEqual(['SIGTERM']);
  });

  it('sets only keys the origin reads, values it accepts, and exposes its ports', () => {
    expectOnlyKnownKeys(Object.keys(env));
    const config = loadConfig({ ...SECRET_STANDINS, ...env });
    expect(ops('EXPOSE')).toEqual([`${config.rtmpPort} ${config.httpPort}`]);
    expect(config.bindHost).toBe('0.0.0.0');
    expect(config.ffmpegPath).toBe('/usr/bin/ffmpeg');
  });

  it('checks /healthz on the HTTP port', () => {
    const [healthcheck] = ops('HEALTHCHECK');
    expect(healthcheck).toContain("'http://127.0.0.1:' + (process.env.HTTP_PORT || 8100) + '/healthz'");
    expect(configSchema.shape.HTTP_PORT.parse(undefined)).toBe(8100);
  });

  it('never bakes a secret into the image', () => {
    for (const key of SECRET_KEYS) expect(env).not.toHaveProperty(key);
  });
});

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  [field: string]: unknown;
}

/** Every object of every manifest in infra/k8s, by `Kind/name`. */
function k8sObjects(): Map<string, K8sObject> {
  const objects = new Map<string, K8sObject>();
  for (const file of readdirSync(join(INFRA, 'k8s')).filter((f) => f.endsWith('.yaml'))) {
    for (const doc of parseAllDocuments(readFileSync(join(INFRA, 'k8s', file), 'utf8'))) {
      expect(doc.errors, file).toEqual([]);
      const o = doc.toJS() as K8sObject;
      objects.set(`${o.kind}/${o.metadata?.name ?? file}`, o);
    }
  }
  return objects;
}

interface Probe {
  httpGet?: { path: string; port: string | number };
}
interface Container {
  name: string;
  ports: { name: string; containerPort: number }[];
  env: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; fieldRef?: { fieldPath: string } } }[];
  envFrom: { configMapRef: { name: string } }[];
  resources: { requests: { cpu: string; memory: string }; limits: Record<string, string> };
  readinessProbe: Probe;
  livenessProbe: Probe;
  startupProbe?: Probe;
  lifecycle: { preStop: { sleep?: { seconds: number }; exec?: { command: string[] } } };
}
interface PodSpec {
  terminationGracePeriodSeconds: number;
  containers: Container[];
}

describe('infra/k8s', () => {
  const objects = k8sObjects();
  const get = <T>(key: string) => {
    const o = objects.get(key);
    expect(o, `${key} is missing`).toBeDefined();
    return o as unknown as T;
  };
  const deployment = get<{ spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } } }>('Deployment/edgelive-origin');
  const pod = deployment.spec.template.spec;
  const origin = pod.containers.find((c) => c.name === 'origin')!;
  const configMap = get<{ data: Record<string, string> }>('ConfigMap/edgelive-origin');
  /** The origin's environment as the pod gets it, with fieldRefs and secrets replaced by stand-ins. */
  const podEnv: Record<string, string> = {
    ...configMap.data,
    ...Object.fromEntries(origin.env.map((e) => [e.name, e.value ?? (e.valueFrom?.fieldRef ? 'from-field-ref' : (SECRET_STANDINS as Record<string, string>)[e.name]!)])),
  };
  const config = loadConfig(podEnv);
  const portNumber = (port: string | number) => (typeof port === 'number' ? port : origin.ports.find((p) => p.name === port)?.containerPort);

  it('lists every manifest in the kustomization', () => {
    const kustomization = parse(readFileSync(join(INFRA, 'k8s/kustomization.yaml'), 'utf8')) as { resources: string[] };
    const files = readdirSync(join(INFRA, 'k8s')).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
    expect([...kustomization.resources].sort()).toEqual(files.sort());
  });

  it('sets only keys the origin reads, with values it accepts', () => {
    expect(origin.envFrom).toEqual([{ configMapRef: { name: 'edgelive-origin' } }]);
    expectOnlyKnownKeys(Object.keys(podEnv));
    expect(config.bindHost).toBe('0.0.0.0');
    expect(config.workDir).toBe('/var/lib/edgelive');
    expect(config.redisUrl).toBe('redis://edgelive-redis:6379');
  });

  it('names the container ports after the ports the origin listens on', () => {
    expect(origin.ports.map((p) => [p.name, p.containerPort])).toEqual([
      ['rtmp', config.rtmpPort],
      ['http', config.httpPort],
    ]);
  });

  it('takes secrets only by reference', () => {
    for (const key of SECRET_KEYS) {
      const entry = origin.env.find((e) => e.name === key);
      expect(entry?.valueFrom?.secretKeyRef, key).toEqual({ name: 'edgelive-origin', key });
      expect(entry?.value).toBeUndefined();
      expect(configMap.data).not.toHaveProperty(key);
    }
    expect([...objects.keys()].filter((k) => k.startsWith('Secret/'))).toEqual([]);
  });

  it('probes readiness on /readyz and liveness on /healthz, on the HTTP port', () => {
    expect(origin.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(origin.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(origin.startupProbe?.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(portNumber(origin.readinessProbe.httpGet!.port)).toBe(config.httpPort);
  });

  it('gives the preStop pause plus the drain time before SIGKILL', () => {
    const preStopMs = (origin.lifecycle.preStop.sleep?.seconds ?? 0) * 1000;
    expect(preStopMs).toBe(5000);
    expect(drainBudgetMs(podEnv)).toBe(20_000 + 3000 + JOB_EXIT_WAIT_MS);
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThanOrEqual(preStopMs + drainBudgetMs(podEnv));
  });

  it('requests the CPU NODE_CAPACITY streams need at the bench:origin rate, and limits no CPU', () => {
    const millicores = Number(/^(\d+)m$/.exec(origin.resources.requests.cpu)?.[1]);
    expect(millicores).toBe(config.nodeCapacity * CPU_SECONDS_PER_MEDIA_SECOND * 1000);
    expect(origin.resources.limits).not.toHaveProperty('cpu');
  });

  it('has a PodDisruptionBudget and Services that select the origin pods', () => {
    const labels = deployment.spec.template.metadata.labels;
    expect(deployment.spec.selector.matchLabels).toEqual(labels);
    const pdb = get<{ spec: { maxUnavailable: number; selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget/edgelive-origin');
    expect(pdb.spec).toEqual({ maxUnavailable: 1, selector: { matchLabels: labels } });
    type Service = { spec: { type: string; selector: Record<string, string>; ports: { port: number; targetPort: string }[] } };
    const rtmp = get<Service>('Service/edgelive-origin-rtmp');
    const http = get<Service>('Service/edgelive-origin-http');
    expect(rtmp.spec.selector).toEqual(labels);
    expect(http.spec.selector).toEqual(labels);
    expect(rtmp.spec.ports.map((p) => [p.port, portNumber(p.targetPort)])).toEqual([[config.rtmpPort, config.rtmpPort]]);
    expect(http.spec.ports.map((p) => [p.port, portNumber(p.targetPort)])).toEqual([[config.httpPort, config.httpPort]]);
  });

  it('runs Redis behind the Service REDIS_URL names', () => {
    const redis = get<{ spec: { ports: { port: number }[] } }>('Service/edgelive-redis');
    const url = new URL(config.redisUrl!);
    expect(url.hostname).toBe('edgelive-redis');
    expect(redis.spec.ports.map((p) => p.port)).toEqual([Number(url.port)]);
    get('Deployment/edgelive-redis');
  });
});

describe('infra/compose/compose.yaml', () => {
  type ComposeService = { environment?: Record<string, string>; ports?: string[]; stop_grace_period?: string; image?: string };
  const compose = parse(readFileSync(join(INFRA, 'compose/compose.yaml'), 'utf8'), { merge: true }) as { services: Record<string, ComposeService> };
  const origins = Object.entries(compose.services).filter(([name]) => name.startsWith('origin-'));
  /** `${KEY:?message}` left to compose: the secrets get stand-ins, the rest an example value. */
  const substitute = (env: Record<string, string>) =>
    Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v.startsWith('${') ? ((SECRET_STANDINS as Record<string, string>)[k] ?? 'https://live.example.com') : String(v)]));

  it('runs two clustered origins next to Redis and MinIO', () => {
    expect(origins.map(([name]) => name)).toEqual(['origin-1', 'origin-2']);
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(['redis', 'minio', 'minio-bucket']));
  });

  it.each(origins)('%s sets only keys the origin reads, publishes its ports, and waits out its drain', (_name, service) => {
    const env = substitute(service.environment!);
    expectOnlyKnownKeys(Object.keys(env));
    const config = loadConfig(env);
    expect(config.redisUrl).toBe('redis://redis:6379');
    expect(config.s3.endpoint).toBe('http://minio:9000');
    expect(service.ports!.map((p) => Number(p.split(':')[1]))).toEqual([config.rtmpPort, config.httpPort]);
    expect(durationMs(service.stop_grace_period!)).toBeGreaterThanOrEqual(drainBudgetMs(env));
    for (const key of SECRET_KEYS) expect(service.environment![key]).toMatch(/^\$\{/);
  });
});

describe('infra/systemd', () => {
  const unit = readFileSync(join(INFRA, 'systemd/edgelive-origin.service'), 'utf8');
  const directives = unit
    .split('\n')
    .filter((l) => /^[A-Za-z]+=/.test(l))
    .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] as const);
  const values = (key: string) => directives.filter(([k]) => k === key).map(([, v]) => v);
  const env = Object.fromEntries(values('Environment').map((v) => v.split('=') as [string, string]));
  const example = Object.fromEntries(
    readFileSync(join(INFRA, 'systemd/origin.env.example'), 'utf8')
      .split('\n')
      .filter((l) => /^[A-Z]/.test(l))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );

  it('runs the origin as its own user and sets only keys it reads, with values it accepts', () => {
    expect(values('ExecStart')).toEqual(['/usr/bin/node origin/src/main.ts']);
    expect(values('User')).toEqual(['edgelive']);
    expectOnlyKnownKeys([...Object.keys(env), ...Object.keys(example)]);
    const config = loadConfig({ ...example, ...SECRET_STANDINS, ...env });
    expect([config.rtmpPort, config.httpPort, config.workDir]).toEqual([1935, 8100, '/var/lib/edgelive']);
  });

  it('stops with SIGTERM and waits out the drain', () => {
    expect(values('KillSignal')).toEqual(['SIGTERM']);
    expect(Number(values('TimeoutStopSec')[0]) * 1000).toBeGreaterThanOrEqual(drainBudgetMs(env));
  });

  it('keeps secrets in the root-only EnvironmentFile', () => {
    expect(values('EnvironmentFile')).toEqual(['/etc/edgelive/origin.env']);
    for (const key of SECRET_KEYS) {
      expect(env).not.toHaveProperty(key);
      expect(example[key]).toBe('');
    }
  });
});

describe('repository root', () => {
  it('keeps the docker build context small (.dockerignore)', () => {
    expect(readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n')).toEqual(expect.arrayContaining(['node_modules', '.git']));
  });
});
