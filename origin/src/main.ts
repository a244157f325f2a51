import { ConfigError, loadConfig } from './config.ts';
import { OriginNode } from './origin-node.ts';

/** Entry point: `node origin/src/main.ts` (Node >= 22.18 runs .ts files by stripping types, unflagged). */
async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const node = new OriginNode(config);
  await node.start();
  // SIGTERM: graceful (hand streams over, then exit); SIGINT: end streams here and exit.
  process.once('SIGINT', () => void node.stop('received SIGINT').then(() => process.exit(0)));
  process.once('SIGTERM', () => void node.drain('received SIGTERM').then(() => process.exit(0)));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
