import { ConfigError, loadConfig } from './config.ts';
import { OriginNode } from './origin-node.ts';

/** Entry point: `node origin/src/main.ts` (Node >= 22.12 with type stripping, or tsx). */
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
  const stop = (signal: string) => {
    void node.stop(`received ${signal}`).then(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
