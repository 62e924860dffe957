/**
 * CommonJS entry of the practice shop, the counterpart of Juice Shop's build/app.js:
 * `node dist/src/shop/app.js`. Environment: SHOP_MODE (stock|naive|fixed, default stock), PORT (3000),
 * HOST (127.0.0.1), LOG_DIR (./logs), COLLECTOR (naive mode syslog receiver, `host:port`, UDP).
 */
import { createShop } from './index';
import type { CollectorAddress, ShopMode } from './types';

function collectorFrom(value: string | undefined): CollectorAddress | undefined {
  if (!value) return undefined;
  const index = value.lastIndexOf(':');
  const port = Number(value.slice(index + 1));
  if (index <= 0 || !Number.isInteger(port)) throw new Error(`COLLECTOR must be host:port, got '${value}'`);
  return { host: value.slice(0, index), port };
}

async function main(): Promise<void> {
  const mode = (process.env.SHOP_MODE ?? 'stock') as ShopMode;
  const shop = await createShop({ mode, logDir: process.env.LOG_DIR ?? 'logs', collector: collectorFrom(process.env.COLLECTOR) });
  const listening = await shop.listen(Number(process.env.PORT ?? 3000), process.env.HOST ?? '127.0.0.1');
  console.log(`Practice shop (${mode}) listening on ${listening.url}`);
  const stop = (): void => {
    void shop.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
