#!/usr/bin/env node
'use strict';
// P2 (issue 7): time to alert. The practice shop in fixed mode (its own process) ships to the collector
// service (another process: store, detection rules, alerts, SSE stream); autocannon (a third) keeps
// 1000 requests/s of ordinary traffic on it (the Angular client page). One at a time, an SQL-injection
// login attempt comes from a new loopback address (127.77.x.y: the shipped rule keys malicious requests by
// source address first); the time is taken from just before the attack request leaves to the moment its
// alert (rule malicious_request, that address) arrives on the dashboard's event stream.
//
//   node bench/time-to-alert.js [--attacks 25] [--rate 1000]
// Requires a build (`npm run build`; A09_BENCH_DIST=<dir> for another one).

const { Buffer } = require('node:buffer');
const http = require('node:http');
const path = require('node:path');
const { setTimeout } = require('node:timers');
const { option, percentile, scratchDir, sleep, startChild } = require('./lib/harness');

/** The n-th attacker: a loopback address of its own (Linux routes all of 127/8 to lo). */
function attackerAddress(n) {
  return `127.77.${Math.floor(n / 250)}.${(n % 250) + 1}`;
}

/** Server-sent events from the dashboard's stream: calls onAlert(alert) for each `alert` event. */
function openStream(httpUrl, token, onAlert) {
  return new Promise((resolve, reject) => {
    const request = http.get(`${httpUrl}/api/stream`, { headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' } }, (response) => {
      if (response.statusCode !== 200) {
        reject(new Error(`stream answered ${response.statusCode}`));
        return;
      }
      response.setEncoding('utf8');
      let buffer = '';
      response.on('data', (chunk) => {
        buffer += chunk;
        let end = buffer.indexOf('\n\n');
        while (end !== -1) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf('\n\n');
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = block
            .split('\n')
            .filter((line) => line.startsWith('data: '))
            .map((line) => line.slice(6))
            .join('\n');
          if (event === 'alert' && data !== '') onAlert(JSON.parse(data), Date.now());
        }
      });
      resolve(() => request.destroy());
    });
    request.on('error', reject);
  });
}

function post(url, body, localAddress) {
  return new Promise((resolve, reject) => {
    const headers = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) };
    const request = http.request(url, { method: 'POST', headers, localAddress, agent: false }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode));
    });
    request.on('error', reject);
    request.end(body);
  });
}

async function run(options = {}) {
  const attacks = Number(options.attacks ?? 25);
  const rate = Number(options.rate ?? 1000);
  const log = options.log ?? ((line) => process.stderr.write(`${line}\n`));
  const dir = scratchDir('a09-bench-alert-');
  const service = startChild(path.join(__dirname, 'lib', 'collector-service-child.js'), [], { env: { BENCH_DIR: path.join(dir, 'collector') } });
  let shop;
  let loader;
  let closeStream = () => undefined;
  try {
    const { tcpPort, httpUrl, token } = await service.ready;
    shop = startChild(path.join(__dirname, 'lib', 'shop-server.js'), ['a09'], {
      env: { BENCH_DIR: path.join(dir, 'shop'), BENCH_SINK_ACK: String(tcpPort), BENCH_SINK_DRAIN: '9' },
    });
    const { url } = await shop.ready;
    loader = startChild(path.join(__dirname, 'lib', 'load.js'));
    await loader.ready;

    const waiting = new Map();
    closeStream = await openStream(httpUrl, token, (alert, at) => {
      if (alert.ruleId !== 'malicious_request' || alert.key?.ip === undefined) return;
      const pending = waiting.get(alert.key.ip);
      if (pending !== undefined) {
        waiting.delete(alert.key.ip);
        pending(at);
      }
    });

    // Background traffic for the whole attack phase (each attack takes well under a second).
    const seconds = Math.ceil(attacks * 0.6) + 4;
    const background = loader.ask('run', { url: `${url}/`, duration: seconds, connections: 10, overallRate: rate, headers: { 'user-agent': 'Mozilla/5.0 bench' } });
    await sleep(1500);
    log(`P2: ${attacks} attacks under ${rate} requests/s of background traffic`);
    const latencies = [];
    let missed = 0;
    for (let n = 1; n <= attacks; n++) {
      const address = attackerAddress(n);
      const alerted = new Promise((resolve) => {
        waiting.set(address, resolve);
        setTimeout(() => resolve(undefined), 5000);
      });
      const sentAt = Date.now();
      await post(`${url}/rest/user/login`, JSON.stringify({ email: `jim@juice-sh.op' OR 1=2--`, password: 'x' }), address);
      const at = await alerted;
      if (at === undefined) missed++;
      else latencies.push(at - sentAt);
      await sleep(200 + Math.floor(Math.random() * 200));
    }
    const load = await background;
    return {
      attacks,
      alerted: latencies.length,
      missed,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: Math.max(...latencies),
      latenciesMs: latencies,
      backgroundRps: load.rps,
      backgroundStatuses: load.statuses,
    };
  } finally {
    closeStream();
    await loader?.stop();
    await shop?.stop();
    await service.stop();
  }
}

module.exports = { run };

if (require.main === module) {
  const argv = process.argv.slice(2);
  run({ attacks: option(argv, 'attacks', 25), rate: option(argv, 'rate', 1000) })
    .then((result) => console.log(JSON.stringify(result, null, 2)))
    .catch((error) => {
      console.error(error);
      process.exit(1);
    });
}
