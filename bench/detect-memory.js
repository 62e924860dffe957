#!/usr/bin/env node
// Memory of the detector under 1M distinct source IPs and 1M distinct account names (issue 4 target:
// <= 64 MB growth). Requires a build: `npm run build`, then `node bench/detect-memory.js [count]`.
// Growth counts the V8 heap and ArrayBuffer backing stores (the windows' typed arrays live there).
'use strict';

const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { recordMaker } = require('./lib/records');

if (typeof global.gc !== 'function') {
  const result = spawnSync(process.execPath, ['--expose-gc', path.join(__dirname, 'detect-memory.js'), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(result.status ?? 1);
}

let detect;
try {
  detect = require(path.join(__dirname, '..', 'dist', 'src', 'detect'));
} catch (error) {
  console.error(`cannot load dist/src/detect (${error.message}); run \`npm run build\` first`);
  process.exit(2);
}

const COUNT = Number(process.argv[2] ?? 1_000_000);
const TARGET_MB = 64;

function memory() {
  global.gc();
  global.gc();
  const usage = process.memoryUsage();
  return { heap: usage.heapUsed, buffers: usage.arrayBuffers, total: usage.heapUsed + usage.arrayBuffers };
}

const mb = (bytes) => (bytes / 1024 / 1024).toFixed(1);

function ip(i) {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}`;
}

function hex24(i) {
  return i.toString(16).padStart(24, '0');
}

const start = Date.UTC(2026, 0, 15, 9, 0, 0);
const { event } = recordMaker();
/** Every record here: a WARN event with outcome failure. */
const record = (type, who, where, at) => event(type, 'failure', who, where, at, { level: 'WARN', severity: 4 });

let now = start;
const detector = detect.createDetector(detect.defaultDetectionConfig(), { now: () => now });
detector.onRecord(record('sys_heartbeat', {}, {}, now));
const before = memory();
const began = process.hrtime.bigint();

for (let i = 0; i < COUNT; i++) {
  // 1000 distinct keys per second of event time: every window is live when its key is evicted.
  now = start + Math.floor(i / 1000) * 1000;
  detector.onRecord(
    record('authn_login_fail', { ip: ip(i), emailId: hex24(i), emailMasked: 'u**@example.com' }, { method: 'POST', url: '/rest/user/login', requestId: `r${i}`, status: 401 }, now),
  );
  detector.onRecord(record('http_request', { ip: ip(COUNT + i), userAgent: 'Mozilla/5.0' }, { method: 'GET', url: `/missing/${i}`, requestId: `q${i}`, status: 404 }, now));
  if (i % 60_000 === 0) {
    detector.onRecord(record('sys_heartbeat', {}, {}, now));
    detector.tick(now);
  }
}

const seconds = Number(process.hrtime.bigint() - began) / 1e9;
const after = memory();
const growth = after.total - before.total;
const stats = detector.stats();

console.log(`detector memory: ${COUNT.toLocaleString('en')} distinct source IPs with failed logins on ${COUNT.toLocaleString('en')} distinct accounts, plus ${COUNT.toLocaleString('en')} more IPs with 404s`);
console.log(`  records: ${stats.records.toLocaleString('en')} in ${seconds.toFixed(1)} s (${Math.round(stats.records / seconds).toLocaleString('en')} records/s)`);
console.log(`  heap: ${mb(before.heap)} -> ${mb(after.heap)} MB; array buffers: ${mb(before.buffers)} -> ${mb(after.buffers)} MB`);
for (const [rule, s] of Object.entries(stats.rules)) {
  if (s.keys > 0 || s.evictions > 0) console.log(`  ${rule}: ${s.keys} keys, ${s.evictions} evicted (${s.liveEvictions} live), ${mb(s.windowBytes)} MB windows`);
}
console.log(`  open alerts: ${stats.alerts.open} (${detector.openAlerts().map((alert) => alert.ruleId).join(', ')})`);
console.log(`  growth: ${mb(growth)} MB (target <= ${TARGET_MB} MB): ${growth <= TARGET_MB * 1024 * 1024 ? 'PASS' : 'FAIL'}`);
process.exitCode = growth <= TARGET_MB * 1024 * 1024 ? 0 : 1;
