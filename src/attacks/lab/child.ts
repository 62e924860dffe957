/**
 * A lab component in its own process (`a09-lab demo` forks this): the collector service, which the
 * outage scenario stops, hangs (SIGSTOP) and restarts, or a practice shop. It reports readiness over the
 * IPC channel and stops on SIGTERM, SIGINT, or when the lab goes away (IPC disconnect).
 */
import path from 'node:path';
import { startCollectorService } from '../../dashboard';
import { createAuditLogger } from '../../ship';
import { createShop, type ShopMode } from '../../shop';

export interface CollectorChildConfig {
  role: 'collector';
  dbPath: string;
  udpPort: number;
  tcpPort: number;
  httpPort: number;
  token: string;
}

export interface ShopChildConfig {
  role: 'shop';
  mode: ShopMode;
  /** The shop's folder: logs/ (what /support/logs serves) and, for fixed, the sender's spool. */
  dir: string;
  /** naive: winston-syslog over UDP to this port; fixed: the a09 sender over TCP to this port. */
  collectorPort?: number;
  heartbeatMs?: number;
}

export type ChildConfig = CollectorChildConfig | ShopChildConfig;

export type ChildReady =
  | { ready: 'collector'; url: string }
  | { ready: 'shop'; url: string; publicKeyPem: string; logDir: string };

function send(message: ChildReady | { failed: string }): void {
  process.send?.(message);
}

async function startCollector(config: CollectorChildConfig): Promise<() => Promise<void>> {
  const host = '127.0.0.1';
  const service = await startCollectorService({
    dbPath: config.dbPath,
    udp: { host, port: config.udpPort },
    tcp: { host, port: config.tcpPort },
    http: { host, port: config.httpPort },
    token: config.token,
    onError: (error) => process.stderr.write(`collector: ${error.message}\n`),
  });
  send({ ready: 'collector', url: service.url });
  return () => service.close();
}

async function startShop(config: ShopChildConfig): Promise<() => Promise<void>> {
  const logDir = path.join(config.dir, 'logs');
  const host = '127.0.0.1';
  const logger = config.mode === 'fixed' && config.collectorPort !== undefined
    ? createAuditLogger({
      app: 'juice-shop',
      collector: `tcp://${host}:${config.collectorPort}`,
      spoolDir: path.join(config.dir, 'spool'),
      heartbeatMs: config.heartbeatMs ?? 15_000,
    })
    : undefined;
  const shop = await createShop({
    mode: config.mode,
    logDir,
    ...(config.mode === 'naive' && config.collectorPort !== undefined && { collector: { host, port: config.collectorPort } }),
    ...(logger !== undefined && { fixed: { emitter: logger, close: () => logger.close() } }),
  });
  const listening = await shop.listen(0, host);
  send({ ready: 'shop', url: listening.url, publicKeyPem: shop.publicKeyPem, logDir: shop.logDir });
  return () => shop.close();
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as ChildConfig;
  let stop: (() => Promise<void>) | undefined;
  let stopping = false;
  const shutdown = (): void => {
    if (stopping) return;
    stopping = true;
    const timer = setTimeout(() => process.exit(1), 8000);
    void (stop?.() ?? Promise.resolve()).finally(() => {
      clearTimeout(timer);
      process.exit(0);
    });
  };
  process.on('SIGTERM', shutdown);
  process.on('SIGINT', shutdown);
  process.on('disconnect', shutdown);
  try {
    stop = config.role === 'collector' ? await startCollector(config) : await startShop(config);
  } catch (error) {
    send({ failed: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
    process.disconnect?.();
  }
}

if (require.main === module) void main();
