/**
 * A CPU profile of the workerd under a bench, through its DevTools inspector (`SIM_PROFILE=1
 * npm run sim:scale`): samples every target for `seconds` and returns the functions with the most
 * self time, one line each, so a bench can say where its one workerd thread spends a step.
 */
import WebSocket from 'ws';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

/** The top `top` functions by self time over `seconds`, per inspector target. */
export async function profileWorkerd(port: number, seconds: number, top = 25): Promise<string> {
  const targets = (await (await fetch(`http://127.0.0.1:${port}/json`)).json()) as { webSocketDebuggerUrl: string; title?: string }[];
  const out: string[] = [];
  for (const target of targets) {
    // wrangler's inspector proxy answers DevTools' own origin only.
    const ws = new WebSocket(target.webSocketDebuggerUrl, { origin: 'https://devtools.devprod.cloudflare.dev' });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    let id = 0;
    const pending = new Map<number, (result: unknown) => void>();
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id?: number; result?: unknown };
      if (m.id !== undefined) pending.get(m.id)?.(m.result);
    });
    const send = <T>(method: string, params: object = {}) =>
      new Promise<T>((resolve) => {
        pending.set(++id, resolve as (result: unknown) => void);
        ws.send(JSON.stringify({ id, method, params }));
      });
    await send('Profiler.enable');
    await send('Profiler.setSamplingInterval', { interval: 500 });
    await send('Profiler.start');
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const { profile } = await send<{ profile: { nodes: ProfileNode[]; samples: number[] } }>('Profiler.stop');
    ws.close();
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map<string, number>();
    for (const sample of profile.samples) {
      const f = nodes.get(sample)!.callFrame;
      const key = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + 1);
    }
    const total = profile.samples.length;
    out.push(`profile of ${target.title ?? 'workerd'} over ${seconds} s: ${total} samples`);
    for (const [key, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, top)) out.push(`${((100 * n) / total).toFixed(1).padStart(6)} %  ${key}`);
  }
  return out.join('\n');
}
