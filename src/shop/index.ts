import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { DailyAccessLog } from './access-log';
import { SILENT_AUDIT_LOG } from './audit-log';
import { ShopDatabase } from './db';
import { loadFixedHooks, mergeHooks } from './hooks';
import { createNaiveLogging, type NaiveLogging } from './naive';
import { ShopSecurity, generateShopKeys } from './security';
import { createServer } from './server';
import type { ListeningShop, Shop, ShopHooks, ShopOptions } from './types';

export type * from './types';
export { generateShopKeys, md5 } from './security';
export { generateCoupon, discountFromCoupon } from './coupon';
export { localDateStamp } from './access-log';
export { SEED_USERS, SHOP_DOMAIN } from './seed';

const MODES = ['stock', 'naive', 'fixed'];

function listenOn(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Builds a practice shop: seeded SQLite, RS256 keys, Juice Shop's middleware order and routes, the mode's hooks. */
export async function createShop(options: ShopOptions): Promise<Shop> {
  if (!MODES.includes(options.mode)) throw new Error(`Unknown shop mode '${String(options.mode)}' (stock, naive or fixed)`);
  const logDir = path.resolve(options.logDir);
  const keys = options.keys ?? generateShopKeys();
  const security = new ShopSecurity(keys);
  const modeHooks: ShopHooks = options.mode === 'fixed'
    ? await loadFixedHooks({ options, publicKeyPem: keys.publicKeyPem, logDir })
    : {};
  const hooks = mergeHooks(modeHooks, options.hooks);
  const accessLog = new DailyAccessLog(logDir);
  const naive: NaiveLogging | undefined = options.mode === 'naive'
    ? createNaiveLogging(logDir, options.collector, options.naive)
    : undefined;
  const db = new ShopDatabase(options.dbFile);
  const servers = new Set<Server>();
  let closing: Promise<void> | undefined;

  const close = (): Promise<void> => {
    closing ??= (async () => {
      await Promise.all([...servers].map(closeServer));
      servers.clear();
      await hooks.close?.();
      await naive?.close();
      accessLog.close();
      db.close();
    })();
    return closing;
  };

  try {
    const { app, ready } = createServer({ db, security, audit: naive?.audit ?? SILENT_AUDIT_LOG, logDir, hooks, accessLog, naive });
    await ready;
    accessLog.open();
    return {
      app,
      mode: options.mode,
      publicKeyPem: keys.publicKeyPem,
      logDir,
      accessLogPath: (date?: Date) => accessLog.pathFor(date),
      signToken: (payload: object) => security.authorize(payload),
      async listen(port = 0, host = '127.0.0.1'): Promise<ListeningShop> {
        if (closing !== undefined) throw new Error('The shop is closed');
        const server = http.createServer(app);
        const address = await listenOn(server, port, host);
        servers.add(server);
        const shown = address.family === 'IPv6' ? `[${address.address}]` : address.address;
        return {
          url: `http://${shown}:${address.port}`,
          port: address.port,
          close: async () => {
            if (servers.delete(server)) await closeServer(server);
          },
        };
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
