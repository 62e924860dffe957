'use strict';
// One practice-shop server per logging variant, in its own process: node bench/lib/shop-server.js <variant>
// Env: BENCH_SINK_ACK / BENCH_SINK_DRAIN (ports of bench/lib/tcp-sink.js), BENCH_DIR (scratch directory).
// Replies when ready: { url, token } (token: admin's, from a real login; basket 1 is admin's).
// Commands: begin -> starts a measurement window; end -> { cpuMicros, requests } for the window.
//
// Variants (all on the same shop, Juice Shop's middleware order, only the access logging differs):
//   bare             no request logging at all (morgan's mount point is a no-op)
//   bare+shapes      bare, with only what a09's request-context does first to req and res on V8 < 13 (their
//                    shared hidden class, middleware/lib/shapes.ts): a09's logging against the same baseline
//   morgan           morgan('combined') to a file stream (what Juice Shop ships, without its rotation)
//   pino-http        pino-http with its defaults to a pino.destination file (asynchronous writes)
//   express-winston  express-winston's logger with its defaults, winston File transport
//   winston-syslog   winston + winston-syslog 2.7.1 over TCP (RFC 5424, LF), one info per request at 'finish'
//   a09              the full fixed stack as issue 7 lists it: request context, access event, login/basket/
//                    error audits, log guard, createAuditLogger (EventSource, sanitizeEvent, RFC 5424 over TCP
//                    with the spool, fsync every 100 ms) to an acknowledging sink; no helmet (not logging)
//   a09+helmet       the same with helmet's headers, as the practice shop's fixed mode runs it
//   a09-inline       the a09 stack with createAuditLogger's `thread: false` (sanitize, format, ship in the request's thread)
//   a09-noop         the a09 middleware with an emitter that does nothing (the middleware's own cost)
//   a09-create       the a09 middleware, events created (EventSource) and dropped: what the request's thread pays
//                    before the hand-over to the shipping thread
//   a09-format       the a09 middleware, events created, sanitized and formatted as RFC 5424, not shipped

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { cpuMicros, loadDist, serveCommands, threadSplit, threadTicks } = require('./harness');

const variant = process.argv[2];
const dir = process.env.BENCH_DIR;
const sinkAck = Number(process.env.BENCH_SINK_ACK);
const sinkDrain = Number(process.env.BENCH_SINK_DRAIN);

const noop = (_req, _res, next) => next();

function winstonSyslogAccessLog() {
  const winston = require('winston');
  const { Syslog } = require('winston-syslog');
  const transport = new Syslog({ host: '127.0.0.1', port: sinkDrain, protocol: 'tcp4', type: '5424', app_name: 'juice-shop', eol: '\n' });
  const logger = winston.createLogger({ levels: winston.config.syslog.levels, transports: [transport] });
  logger.on('error', () => undefined);
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      logger.info('http_request', {
        method: req.method,
        url: req.originalUrl,
        status: res.statusCode,
        durationMs: Number(process.hrtime.bigint() - started) / 1e6,
        ip: req.socket.remoteAddress,
        userAgent: req.headers['user-agent'],
      });
    });
    next();
  };
}

function accessLogFor(name) {
  const file = path.join(dir, `${name}.log`);
  switch (name) {
    case 'bare':
      return noop;
    case 'morgan':
      return require('morgan')('combined', { stream: fs.createWriteStream(file, { flags: 'a' }) });
    case 'pino-http': {
      const pino = require('pino');
      return require('pino-http')({}, pino.destination({ dest: file, sync: false }));
    }
    case 'express-winston': {
      const winston = require('winston');
      const expressWinston = require('express-winston');
      return expressWinston.logger({ winstonInstance: winston.createLogger({ transports: [new winston.transports.File({ filename: file })] }) });
    }
    case 'winston-syslog':
      return winstonSyslogAccessLog();
    default:
      return undefined;
  }
}

/** Fixed-mode settings: the full stack ships to the sink; the decompositions stop earlier. */
function fixedSettings(name) {
  // For experiments: BENCH_A09_OPTIONS='{"helmet":false}' turns pieces of the stack off.
  const overrides = process.env.BENCH_A09_OPTIONS ? JSON.parse(process.env.BENCH_A09_OPTIONS) : {};
  const helmet = name === 'a09+helmet' ? {} : { helmet: false };
  return { a09: { ...helmet, ...overrides }, ...fixedEmitter(name === 'a09+helmet' ? 'a09' : name) };
}

function fixedEmitter(name) {
  const logger = {
    collector: `tcp://127.0.0.1:${sinkAck}`,
    spoolDir: path.join(dir, 'spool'),
    app: 'juice-shop',
    hmacKey: 'bench-key',
    // For experiments: BENCH_A09_LOGGER='{"transport":{"fsyncIntervalMs":0}}'.
    ...(process.env.BENCH_A09_LOGGER ? JSON.parse(process.env.BENCH_A09_LOGGER) : {}),
  };
  if (name === 'a09') return { logger };
  if (name === 'a09-inline') return { logger: { ...logger, thread: false } };
  if (name === 'a09-create') {
    const { EventSource } = loadDist('src/events');
    const source = new EventSource({ app: 'juice-shop', hmacKey: 'bench-key' });
    return { emitter: { emit: (input) => source.create(input) } };
  }
  if (name === 'a09-noop') return { emitter: { emit: () => undefined } };
  if (name === 'a09-format') {
    const { EventSource } = loadDist('src/events');
    const { sanitizeEvent } = loadDist('src/sanitize');
    const { formatRfc5424 } = loadDist('src/ship');
    const source = new EventSource({ app: 'juice-shop', hmacKey: 'bench-key' });
    let sink = 0;
    return {
      emitter: {
        emit(input) {
          try {
            const event = sanitizeEvent(source.create(input));
            sink += formatRfc5424(event).length;
            return event;
          } catch {
            return undefined;
          }
        },
      },
      close: () => void sink,
    };
  }
  throw new Error(`unknown variant ${name}`);
}

async function main() {
  fs.mkdirSync(dir, { recursive: true });
  // Threads that exist before the shop starts are V8's and libuv's; the ones it starts are its workers.
  const helperThreads = new Set(Object.keys(threadTicks()));
  const { createShop } = loadDist('src/shop');
  const shapes = variant === 'bare+shapes';
  const access = accessLogFor(shapes ? 'bare' : variant);
  const fixed = access === undefined;
  const first = [];
  if (shapes) {
    const { DETACHED_MAPS_LOSE_TRANSITIONS, toSharedShape } = loadDist('middleware/lib/shapes');
    first.push((req, res, next) => {
      if (DETACHED_MAPS_LOSE_TRANSITIONS) {
        toSharedShape(req);
        toSharedShape(res);
      }
      next();
    });
  }
  const shop = await createShop({
    mode: fixed ? 'fixed' : 'stock',
    logDir: path.join(dir, 'logs'),
    ...(fixed ? { fixed: fixedSettings(variant) } : { hooks: { replaceAccessLog: access, first } }),
  });
  let requests = 0;
  const server = http.createServer(shop.app);
  server.on('request', () => {
    requests++;
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${server.address().port}`;

  const login = await globalThis.fetch(`${url}/rest/user/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'admin@juice-sh.op', password: 'admin123' }),
  });
  const token = (await login.json()).authentication.token;

  // For experiments: BENCH_HEAP_PROFILE=<file> samples allocations (collected ones too) until stop.
  let heapSession;
  if (process.env.BENCH_HEAP_PROFILE) {
    const inspector = require('node:inspector');
    heapSession = new inspector.Session();
    heapSession.connect();
    heapSession.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMinorGC: true, includeObjectsCollectedByMajorGC: true });
  }

  let window;
  serveCommands({
    begin: () => {
      window = { cpu: cpuMicros(), requests, threads: threadTicks() };
    },
    end: () => {
      const count = requests - window.requests;
      return {
        cpuMicros: cpuMicros() - window.cpu,
        requests: count,
        // us per request by thread (10 ms ticks): main, workers started by the shop (the shipping thread), V8/libuv helpers
        threads: count > 0 ? threadSplit(window.threads, threadTicks(), helperThreads, count) : undefined,
        rssMb: process.memoryUsage().rss / 1e6,
      };
    },
    stop: async () => {
      // With --cpu-prof: how many requests the profile covers, to read it per request.
      const profileDir = process.env.BENCH_PROFILE_DIR;
      if (profileDir) fs.writeFileSync(path.join(profileDir, `${process.pid}.json`), JSON.stringify({ variant, requests }));
      if (heapSession !== undefined) {
        await new Promise((resolve) =>
          heapSession.post('HeapProfiler.stopSampling', (error, result) => {
            if (!error) fs.writeFileSync(`${process.env.BENCH_HEAP_PROFILE}.${variant}.heapprofile`, JSON.stringify({ ...result.profile, requests }));
            resolve();
          }),
        );
      }
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await shop.close();
    },
  });
  process.send({ url, token });
}

main().catch((error) => {
  console.error(`shop-server ${variant}:`, error);
  process.exit(1);
});
