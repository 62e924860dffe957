'use strict';
// The whole collector service (src/dashboard startCollectorService: syslog over TCP -> store -> detection
// rules -> alerts -> the dashboard's SSE stream) in its own process, with the shipped rules.
// Env: BENCH_DIR. Replies { tcpPort, httpUrl, token } when ready.

const fs = require('node:fs');
const path = require('node:path');
const { loadDist, serveCommands } = require('./harness');

const { startCollectorService } = loadDist('src/dashboard');

async function main() {
  fs.mkdirSync(process.env.BENCH_DIR, { recursive: true });
  const token = 'bench-token-0123456789abcdef0123456789abcdef';
  const service = await startCollectorService({
    dbPath: path.join(process.env.BENCH_DIR, 'collector.db'),
    tcp: { port: 0, host: '127.0.0.1' },
    udp: false,
    http: { port: 0, host: '127.0.0.1' },
    token,
    onError: () => undefined,
  });
  serveCommands({ stop: () => service.close() });
  process.send({ tcpPort: service.addresses.tcp.port, httpUrl: service.url.replace(/\/$/, ''), token });
}

main().catch((error) => {
  console.error('collector-service-child:', error);
  process.exit(1);
});
