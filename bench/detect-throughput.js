#!/usr/bin/env node
// Detection cost per record on a realistic mix (issue 7: ingest >= 100k events/s including rules).
// Requires a build: `npm run build`, then `node bench/detect-throughput.js [records] [rounds]`.
// Records are generated first; only detector.onRecord is timed.
'use strict';

const path = require('node:path');
const { recordMaker } = require('./lib/records');

let detect;
try {
  detect = require(path.join(__dirname, '..', 'dist', 'src', 'detect'));
} catch (error) {
  console.error(`cannot load dist/src/detect (${error.message}); run \`npm run build\` first`);
  process.exit(2);
}

const COUNT = Number(process.argv[2] ?? 100_000);
const ROUNDS = Number(process.argv[3] ?? 5);

// Deterministic pseudo-random numbers (mulberry32), so runs compare.
let seed = 0x5eed;
function random() {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (list) => list[Math.floor(random() * list.length)];

const PAGES = [
  '/',
  '/rest/products/search?q=',
  '/rest/products/search?q=apple%20juice',
  '/api/Quantitys/',
  '/rest/languages',
  '/rest/admin/application-version',
  '/api/Challenges/?name=Score%20Board',
  '/assets/public/images/products/apple_juice.jpg',
  '/socket.io/?EIO=4&transport=polling&t=P1a2b3c',
  '/rest/products/1/reviews',
  '/rest/basket/3',
  '/api/BasketItems/',
  '/rest/user/whoami',
];
const ATTACKS = ['/.env', '/.git/config', '/rest/products/search?q=%27))%20UNION%20SELECT%201--', '/rest/products/search?q=%3Cscript%3E', '/ftp/..%2f..%2fetc%2fpasswd'];
const AGENTS = ['Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15'];

const start = Date.UTC(2026, 0, 15, 9, 0, 0);
let request = 0;

const { event: record, raw } = recordMaker();

const mix = { page: 0, notFound: 0, error: 0, loginOk: 0, loginFail: 0, order: 0, heartbeat: 0, attack: 0, raw: 0 };
const records = [];
for (let i = 0; i < COUNT; i++) {
  // About 200 records a second of event time.
  const at = start + Math.floor(i * 5);
  const ip = `192.0.${Math.floor(random() * 20)}.${Math.floor(random() * 250)}`;
  const user = Math.floor(random() * 2000);
  const who = { ip, userAgent: pick(AGENTS) };
  const where = (method, url, status) => ({ method, url, requestId: `r${request++}`, status });
  const roll = random();
  if (roll < 0.7) {
    mix.page++;
    records.push(record('http_request', 'success', who, where('GET', pick(PAGES), 200), at));
  } else if (roll < 0.78) {
    mix.notFound++;
    records.push(record('http_request', 'failure', who, where('GET', '/favicon.ico', 404), at));
  } else if (roll < 0.79) {
    mix.error++;
    records.push(record('http_request', 'error', who, where('GET', '/rest/products/search?q=x', 500), at));
  } else if (roll < 0.84) {
    mix.loginOk++;
    records.push(record('authn_login_success', 'success', { ...who, userId: String(user), emailId: user.toString(16).padStart(24, '0') }, where('POST', '/rest/user/login', 200), at));
  } else if (roll < 0.87) {
    mix.loginFail++;
    records.push(record('authn_login_fail', 'failure', { ...who, emailId: user.toString(16).padStart(24, '0') }, where('POST', '/rest/user/login', 401), at));
  } else if (roll < 0.89) {
    mix.order++;
    records.push(record('order_placed', 'success', { ...who, userId: String(user) }, where('POST', `/rest/basket/${user}/checkout`, 200), at));
  } else if (roll < 0.895) {
    mix.heartbeat++;
    records.push(record('sys_heartbeat', 'info', {}, {}, at));
  } else if (roll < 0.9) {
    mix.attack++;
    records.push(record('http_request', 'failure', { ip: '203.0.113.66', userAgent: random() < 0.5 ? 'sqlmap/1.7.2#stable' : AGENTS[0] }, where('GET', pick(ATTACKS), 404), at));
  } else {
    mix.raw++;
    records.push(raw(`juice-shop: info: ${ip} GET ${pick(PAGES)} 200 "${pick(AGENTS)}"`, at));
  }
}

console.log(`detector throughput: ${COUNT.toLocaleString('en')} records x ${ROUNDS} rounds, mix ${JSON.stringify(mix)}`);
const rates = [];
for (let round = 0; round < ROUNDS; round++) {
  let now = start;
  const detector = detect.createDetector(detect.defaultDetectionConfig(), { now: () => now });
  const began = process.hrtime.bigint();
  for (let i = 0; i < records.length; i++) {
    if ((i & 1023) === 0) now = start + i * 5;
    detector.onRecord(records[i]);
  }
  const seconds = Number(process.hrtime.bigint() - began) / 1e9;
  rates.push(records.length / seconds);
  const stats = detector.stats();
  const opened = detector.openAlerts().map((alert) => `${alert.ruleId}(${alert.key.value}) x${alert.count}`);
  console.log(`  round ${round + 1}: ${Math.round(records.length / seconds).toLocaleString('en')} records/s (${((seconds / records.length) * 1e9).toFixed(0)} ns/record), alerts opened ${stats.alerts.opened}`);
  if (round === ROUNDS - 1) console.log(`  alerts: ${opened.join(', ')}`);
}
rates.sort((a, b) => a - b);
console.log(`  median: ${Math.round(rates[Math.floor(rates.length / 2)]).toLocaleString('en')} records/s on one core`);
