'use strict';
/**
 * The preload's settings, from environment variables only (the official image has no shell to write a
 * config file with). Reading never throws: problems are collected and reported by the preload.
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Buffer } = require('node:buffer');
const { URL } = require('node:url');

const MODES = ['fixed', 'naive', 'off'];
const DEFAULT_EXPECT_WITHIN_MS = 10000;

/** Every variable the preload reads, for the README and the tests. */
const VARIABLES = [
  'A09_MODE',
  'A09_COLLECTOR',
  'A09_COLLECTOR_CA_FILE',
  'A09_COLLECTOR_CERT_FILE',
  'A09_COLLECTOR_KEY_FILE',
  'A09_COLLECTOR_SERVERNAME',
  'A09_EVENTS_FILE',
  'A09_SPOOL_DIR',
  'A09_HMAC_KEY',
  'A09_HMAC_KEY_FILE',
  'A09_JWT_PUBLIC_KEY',
  'A09_TRUSTED_PROXIES',
  'A09_SHARED_SHAPES',
  'A09_APP',
  'A09_HEARTBEAT_MS',
  'A09_BIND_HOST',
  'A09_LOG_DIR',
  'A09_EXPECT_WITHIN_MS',
  'A09_PACKAGE_DIR',
];

function text(env, name) {
  const value = env[name];
  return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
}

/** `tcp://host:port`, `tls://host:port`, `udp://host:port` -> parts, or an error message. */
function parseCollector(url) {
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return { error: `A09_COLLECTOR '${url}' is not a URL (tcp://host:port, tls://host:port or udp://host:port)` };
  }
  const protocol = parsed.protocol.replace(/:$/, '');
  if (!['tcp', 'tls', 'udp'].includes(protocol)) return { error: `A09_COLLECTOR '${url}': the scheme must be tcp, tls or udp` };
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(parsed.port);
  if (host === '' || parsed.port === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return { error: `A09_COLLECTOR '${url}' needs a host and a port` };
  }
  return { url, protocol, host, port };
}

/** One of `choices` (any case), `fallback` when unset; otherwise a problem and undefined. */
function choice(env, name, choices, fallback, problems) {
  const raw = (text(env, name) ?? fallback).toLowerCase();
  if (choices.includes(raw)) return raw;
  problems.push(`${name} must be ${choices.slice(0, -1).join(', ')} or ${choices[choices.length - 1]}, not '${raw}'`);
  return undefined;
}

function readFileSetting(env, name, problems) {
  const file = text(env, name);
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (error) {
    problems.push(`${name} ${file}: ${error.code ?? error.message}`);
    return undefined;
  }
}

function positiveInteger(env, name, fallback, problems) {
  const raw = text(env, name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0) {
    problems.push(`${name} must be a positive integer of milliseconds, not '${raw}'`);
    return fallback;
  }
  return value;
}

/**
 * The settings. `problems` are fatal for the preload (it hooks nothing and says why); `notes` are told in
 * the startup line. `cwd` is where Juice Shop runs (its `encryptionkeys/` and `logs/` are relative to it).
 */
function readConfig(env = process.env, cwd = process.cwd()) {
  const problems = [];
  const mode = choice(env, 'A09_MODE', MODES, 'fixed', problems);

  let collector;
  const collectorUrl = text(env, 'A09_COLLECTOR');
  if (collectorUrl !== undefined) {
    const parsed = parseCollector(collectorUrl);
    if (parsed.error !== undefined) problems.push(parsed.error);
    else collector = parsed;
  }
  const eventsFile = text(env, 'A09_EVENTS_FILE');
  if (mode === 'fixed' && collector === undefined && eventsFile === undefined && !problems.some((p) => p.startsWith('A09_COLLECTOR'))) {
    problems.push('fixed mode needs A09_COLLECTOR (tcp://, tls:// or udp://host:port) or A09_EVENTS_FILE: events would go nowhere');
  }
  if (mode === 'naive' && collector !== undefined && collector.protocol !== 'udp') {
    problems.push(`naive mode sends RFC 3164 over UDP (winston-syslog, as teams configure it): use udp://${collector.host}:${collector.port}`);
  }

  const tls = {};
  const ca = readFileSetting(env, 'A09_COLLECTOR_CA_FILE', problems);
  const cert = readFileSetting(env, 'A09_COLLECTOR_CERT_FILE', problems);
  const key = readFileSetting(env, 'A09_COLLECTOR_KEY_FILE', problems);
  if (ca !== undefined) tls.ca = ca;
  if (cert !== undefined) tls.cert = cert;
  if (key !== undefined) tls.key = key;
  const servername = text(env, 'A09_COLLECTOR_SERVERNAME');
  if (servername !== undefined) tls.servername = servername;
  if ((cert === undefined) !== (key === undefined) && !problems.some((p) => p.includes('_FILE '))) {
    problems.push('A09_COLLECTOR_CERT_FILE and A09_COLLECTOR_KEY_FILE go together (a client certificate needs its key)');
  }
  if (Object.keys(tls).length > 0 && collector !== undefined && collector.protocol !== 'tls') {
    problems.push(`the A09_COLLECTOR_* TLS files need a tls:// collector, not ${collector.protocol}://`);
  }

  let hmacKey;
  let hmacSource = 'random per process (A09_HMAC_KEY unset: email pseudonyms link events within this run only)';
  const inlineKey = text(env, 'A09_HMAC_KEY');
  const keyFile = readFileSetting(env, 'A09_HMAC_KEY_FILE', problems);
  if (inlineKey !== undefined && keyFile !== undefined) problems.push('set A09_HMAC_KEY or A09_HMAC_KEY_FILE, not both');
  if (inlineKey !== undefined) {
    hmacKey = inlineKey;
    hmacSource = 'A09_HMAC_KEY';
  } else if (keyFile !== undefined) {
    hmacKey = keyFile.toString('utf8').trim();
    hmacSource = `A09_HMAC_KEY_FILE ${text(env, 'A09_HMAC_KEY_FILE')}`;
    if (hmacKey === '') problems.push(`A09_HMAC_KEY_FILE ${text(env, 'A09_HMAC_KEY_FILE')} is empty`);
  }
  if (hmacKey !== undefined && hmacKey !== '' && Buffer.byteLength(hmacKey) < 16) problems.push('the HMAC key must be at least 16 bytes');

  // Default spool: one per shop folder, stable across restarts (the spool resends what a killed process left).
  const cwdTag = crypto.createHash('sha256').update(path.resolve(cwd)).digest('hex').slice(0, 8);
  const spoolDir = path.resolve(cwd, text(env, 'A09_SPOOL_DIR') ?? path.join(os.tmpdir(), `a09-spool-${cwdTag}`));

  const jwtSetting = text(env, 'A09_JWT_PUBLIC_KEY');
  const jwtPublicKey = jwtSetting !== undefined && jwtSetting.startsWith('-----BEGIN')
    ? { pem: jwtSetting, from: 'A09_JWT_PUBLIC_KEY (PEM)' }
    : { file: jwtSetting ?? path.join('encryptionkeys', 'jwt.pub'), from: jwtSetting ?? 'encryptionkeys/jwt.pub' };

  const trustedProxies = (text(env, 'A09_TRUSTED_PROXIES') ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  // The request-context's sharedShapes (middleware/lib/shapes.ts): auto = on for V8 before 13 (Node 20 to 23).
  const shapes = choice(env, 'A09_SHARED_SHAPES', ['auto', 'on', 'off'], 'auto', problems);
  const sharedShapes = shapes === 'on' ? true : shapes === 'off' ? false : undefined;
  const packageDir = path.resolve(cwd, text(env, 'A09_PACKAGE_DIR') ?? path.join(__dirname, '..', '..'));

  return {
    mode: mode ?? 'off',
    collector,
    tls: Object.keys(tls).length > 0 ? tls : undefined,
    eventsFile: eventsFile === undefined ? undefined : path.resolve(cwd, eventsFile),
    spoolDir,
    hmacKey: hmacKey === '' ? undefined : hmacKey,
    hmacSource,
    jwtPublicKey,
    trustedProxies,
    sharedShapes,
    app: text(env, 'A09_APP') ?? 'juice-shop',
    heartbeatMs: positiveInteger(env, 'A09_HEARTBEAT_MS', undefined, problems),
    bindHost: text(env, 'A09_BIND_HOST'),
    logDir: path.resolve(cwd, text(env, 'A09_LOG_DIR') ?? 'logs'),
    expectWithinMs: positiveInteger(env, 'A09_EXPECT_WITHIN_MS', DEFAULT_EXPECT_WITHIN_MS, problems),
    packageDir,
    problems,
  };
}

module.exports = { readConfig, parseCollector, VARIABLES, MODES };
