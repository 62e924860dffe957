'use strict';
// A process that logs at a steady rate to a syslog collector over TCP, for the outage benchmark (P5):
//   node bench/lib/event-emitter-child.js a09 <port>      createAuditLogger (spool, RFC 5424, octet counting)
//   node bench/lib/event-emitter-child.js winston <port>  winston + winston-syslog 2.7.1 (RFC 5424, LF framing)
// Env: BENCH_DIR. Commands: begin { rate } -> {}; halt -> { emitted }; drain { timeoutMs } -> waits until
// the sender says it has nothing left to send (a09: spool sent and acknowledged; winston: its queue empty).

const path = require('node:path');
const { setInterval, clearInterval } = require('node:timers');
const { loadDist, serveCommands, sleep } = require('./harness');

const [kind, port] = process.argv.slice(2);
let emitted = 0;
let timer;

function a09Sender() {
  const { createAuditLogger } = loadDist('src/ship');
  const logger = createAuditLogger({
    collector: `tcp://127.0.0.1:${port}`,
    spoolDir: path.join(process.env.BENCH_DIR, 'spool'),
    heartbeatMs: 0,
    app: 'juice-shop',
    hmacKey: 'bench-key',
    warn: () => undefined,
  });
  return {
    send(n) {
      logger.emit({
        type: 'http_request',
        outcome: 'success',
        who: { ip: '10.0.0.7', userAgent: 'Mozilla/5.0 (X11; Linux x86_64) bench' },
        where: { method: 'GET', route: '/rest/basket/:id', url: `/rest/basket/${n % 7}`, requestId: `req-${n}`, status: 200 },
        detail: { durationMs: 1.5 },
      });
    },
    idle: () => {
      const ship = logger.stats().ship;
      return ship.connected && ship.unsent === 0;
    },
    close: () => logger.close(),
  };
}

function winstonSender() {
  const winston = require('winston');
  const { Syslog } = require('winston-syslog');
  const transport = new Syslog({ host: '127.0.0.1', port: Number(port), protocol: 'tcp4', type: '5424', app_name: 'winston-bench', eol: '\n' });
  const logger = winston.createLogger({ levels: winston.config.syslog.levels, transports: [transport] });
  logger.on('error', () => undefined);
  transport.on('error', () => undefined);
  return {
    send(n) {
      logger.info(`bench n=${n} GET /rest/basket/${n % 7} 200`);
    },
    idle: () => transport.queue.length === 0 && transport.connected === true,
    close: async () => {
      logger.close();
    },
  };
}

const sender = kind === 'a09' ? a09Sender() : winstonSender();

serveCommands({
  begin: ({ rate }) => {
    // Every 10 ms, as many as the rate says are due by now: steady even when a tick runs late.
    const started = Date.now();
    const base = emitted;
    timer = setInterval(() => {
      const due = base + Math.floor(((Date.now() - started) * rate) / 1000);
      while (emitted < due) sender.send(++emitted);
    }, 10);
  },
  halt: () => {
    clearInterval(timer);
    return { emitted };
  },
  drain: async ({ timeoutMs }) => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && !sender.idle()) await sleep(20);
    return { idle: sender.idle() };
  },
  stop: async () => {
    clearInterval(timer);
    await sender.close();
  },
});
process.send({ ready: true });
