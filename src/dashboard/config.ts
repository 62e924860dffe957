import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { CollectorLimits, ListenAddress, TlsListenOptions } from '../collector';
import type { AlertChangeKind, EscalationConfig } from '../detect';
import type { CollectorServiceOptions } from './service';

/** A configuration file that cannot be used; the message names the file and the field. */
export class ServiceConfigError extends Error {
  override name = 'ServiceConfigError';
}

/**
 * What a service configuration file (JSON or YAML) holds. Every key is optional; file paths are relative
 * to the file's directory. Addresses are `host:port`, `port`, or `false`/`off` to turn a listener off.
 *
 * ```yaml
 * db: ./collector.db
 * udp: 127.0.0.1:5514
 * tcp: 127.0.0.1:5514
 * tls: { listen: 127.0.0.1:6514, cert: ./cert.pem, key: ./key.pem, ca: ./ca.pem, requireClientCert: false }
 * http: 127.0.0.1:8514
 * rules: ./rules.yaml
 * tickMs: 1000
 * limits: { maxConnections: 2048 }
 * store: { batchSize: 2000, batchDelayMs: 20, synchronous: FULL }
 * escalation:                      # optional: alerts sent on (src/detect escalator)
 *   changes: [alert]               # which changes: alert, alert-update, alert-close
 *   severityAtMost: 3
 *   syslog: { url: tcp://siem.example:514, tls: { ca: ./siem-ca.pem } }   # as syslog severity 1
 *   webhook: { url: https://hooks.example/a09, headers: { authorization: Bearer ... }, maxAttempts: 5 }
 * # token and chainKey are better given as A09_COLLECTOR_TOKEN and A09_CHAIN_KEY
 * ```
 */
export interface ServiceFileConfig {
  db?: string;
  host?: string;
  udp?: string | number | false;
  tcp?: string | number | false;
  tls?: false | { listen?: string | number; cert: string; key: string; ca?: string; requireClientCert?: boolean };
  http?: string | number;
  token?: string;
  chainKey?: string;
  rules?: string;
  tickMs?: number;
  limits?: Partial<CollectorLimits>;
  store?: { batchSize?: number; batchDelayMs?: number; synchronous?: 'FULL' | 'NORMAL' };
  escalation?: FileEscalation;
}

/** Escalation as a file gives it: TLS material as file paths. */
export interface FileEscalation {
  changes?: AlertChangeKind[];
  severityAtMost?: number;
  syslog?: {
    url: string;
    facility?: number;
    host?: string;
    app?: string;
    maxQueue?: number;
    connectTimeoutMs?: number;
    tls?: { ca?: string; cert?: string; key?: string; servername?: string };
  };
  webhook?: { url: string; headers?: Record<string, string>; timeoutMs?: number; maxAttempts?: number; maxQueue?: number };
}

const TOP_KEYS = ['db', 'host', 'udp', 'tcp', 'tls', 'http', 'token', 'chainKey', 'rules', 'tickMs', 'limits', 'store', 'escalation'];
const ESCALATION_KEYS = ['changes', 'severityAtMost', 'syslog', 'webhook'];
const SYSLOG_KEYS = ['url', 'facility', 'host', 'app', 'maxQueue', 'connectTimeoutMs', 'tls'];
const SYSLOG_TLS_KEYS = ['ca', 'cert', 'key', 'servername'];
const WEBHOOK_KEYS = ['url', 'headers', 'timeoutMs', 'maxAttempts', 'maxQueue'];
const CHANGE_KINDS: readonly AlertChangeKind[] = ['alert', 'alert-update', 'alert-close'];
const TLS_KEYS = ['listen', 'cert', 'key', 'ca', 'requireClientCert'];
const STORE_KEYS = ['batchSize', 'batchDelayMs', 'synchronous'];
const LIMIT_KEYS: readonly (keyof CollectorLimits)[] = [
  'maxFrameBytes', 'maxConnections', 'maxConnectionsPerPeer', 'idleTimeoutMs', 'frameTimeoutMs', 'tlsHandshakeTimeoutMs',
  'udpPerPeerRate', 'maxTrackedPeers', 'maxAckBacklogBytes', 'maxPendingRecords',
];

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `host:port`, `[v6]:port`, `:port` or `port`; the host defaults to 127.0.0.1. */
export function parseListenAddress(value: string | number, what: string): ListenAddress {
  const text = String(value).trim();
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[2]);
  if (match === null || port > 65535) throw new ServiceConfigError(`${what} wants host:port or a port, not '${text.slice(0, 80)}'`);
  return { host: match[1] ? match[1] : '127.0.0.1', port };
}

/** A listener setting: an address, or off (`false`, `off`, `none`). */
export function parseListener(value: string | number | false, what: string): ListenAddress | false {
  if (value === false || value === 'off' || value === 'none' || value === 'false') return false;
  return parseListenAddress(value, what);
}

function readPem(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new ServiceConfigError(`${what}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

function unknownKeys(object: Json, allowed: readonly string[], where: string): void {
  const unknown = Object.keys(object).filter((key) => !allowed.includes(key));
  if (unknown.length > 0) throw new ServiceConfigError(`${where}: unknown setting ${unknown.map((key) => `'${key}'`).join(', ')}`);
}

function expect<T>(ok: boolean, value: unknown, where: string, wanted: string): T {
  if (!ok) throw new ServiceConfigError(`${where} must be ${wanted} (got ${JSON.stringify(value)?.slice(0, 60)})`);
  return value as T;
}

function positiveInteger(value: unknown, where: string): number {
  return expect<number>(typeof value === 'number' && Number.isInteger(value) && value > 0, value, where, 'a positive integer');
}

function address(value: unknown, where: string): string | number | false {
  return expect<string | number | false>(typeof value === 'string' || typeof value === 'number' || value === false, value, where, 'host:port, a port or false');
}

function mapping(value: unknown, where: string, allowed: readonly string[]): Json {
  if (!isObject(value)) throw new ServiceConfigError(`${where} must be a mapping`);
  unknownKeys(value, allowed, where);
  return value;
}

function optionalString(object: Json, key: string, where: string): void {
  if (object[key] !== undefined) expect(typeof object[key] === 'string' && object[key] !== '', object[key], `${where}.${key}`, 'a non-empty string');
}

function optionalInteger(object: Json, key: string, where: string, min: number, max: number): void {
  const value = object[key];
  if (value !== undefined) expect(typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max, value, `${where}.${key}`, `an integer from ${min} to ${max}`);
}

/** Shapes only: URLs are checked by createEscalator when the service starts. */
function validateEscalation(value: unknown, where: string): FileEscalation {
  const escalation = mapping(value, where, ESCALATION_KEYS);
  if (escalation.changes !== undefined) {
    const changes = escalation.changes;
    expect(Array.isArray(changes) && changes.every((kind) => (CHANGE_KINDS as readonly unknown[]).includes(kind)), changes, `${where}.changes`, `a list of ${CHANGE_KINDS.join(', ')}`);
  }
  optionalInteger(escalation, 'severityAtMost', where, 0, 7);
  if (escalation.syslog !== undefined) {
    const syslog = mapping(escalation.syslog, `${where}.syslog`, SYSLOG_KEYS);
    expect(typeof syslog.url === 'string' && syslog.url !== '', syslog.url, `${where}.syslog.url`, 'a URL (tcp://, tls:// or udp://)');
    for (const key of ['host', 'app']) optionalString(syslog, key, `${where}.syslog`);
    optionalInteger(syslog, 'facility', `${where}.syslog`, 0, 23);
    optionalInteger(syslog, 'maxQueue', `${where}.syslog`, 1, 1_000_000);
    optionalInteger(syslog, 'connectTimeoutMs', `${where}.syslog`, 1, 600_000);
    if (syslog.tls !== undefined) {
      const tls = mapping(syslog.tls, `${where}.syslog.tls`, SYSLOG_TLS_KEYS);
      for (const key of SYSLOG_TLS_KEYS) optionalString(tls, key, `${where}.syslog.tls`);
    }
  }
  if (escalation.webhook !== undefined) {
    const webhook = mapping(escalation.webhook, `${where}.webhook`, WEBHOOK_KEYS);
    expect(typeof webhook.url === 'string' && webhook.url !== '', webhook.url, `${where}.webhook.url`, 'an http:// or https:// URL');
    if (webhook.headers !== undefined) {
      const headers = webhook.headers;
      expect(isObject(headers) && Object.values(headers).every((header) => typeof header === 'string'), headers, `${where}.webhook.headers`, 'a mapping of strings');
    }
    optionalInteger(webhook, 'timeoutMs', `${where}.webhook`, 1, 600_000);
    optionalInteger(webhook, 'maxAttempts', `${where}.webhook`, 1, 100);
    optionalInteger(webhook, 'maxQueue', `${where}.webhook`, 1, 1_000_000);
  }
  return escalation as FileEscalation;
}

/** Check a parsed file against ServiceFileConfig. */
export function validateServiceConfig(value: unknown, source: string): ServiceFileConfig {
  if (!isObject(value)) throw new ServiceConfigError(`${source}: the configuration must be a mapping`);
  unknownKeys(value, TOP_KEYS, source);
  const config: ServiceFileConfig = {};
  const where = (key: string): string => `${source}: ${key}`;
  for (const key of ['db', 'host', 'token', 'chainKey', 'rules'] as const) {
    if (value[key] !== undefined) config[key] = expect<string>(typeof value[key] === 'string' && value[key] !== '', value[key], where(key), 'a non-empty string');
  }
  for (const key of ['udp', 'tcp'] as const) if (value[key] !== undefined) config[key] = address(value[key], where(key));
  if (value.http !== undefined) {
    config.http = expect<string | number>(typeof value.http === 'string' || typeof value.http === 'number', value.http, where('http'), 'host:port or a port');
  }
  if (value.tickMs !== undefined) config.tickMs = positiveInteger(value.tickMs, where('tickMs'));
  if (value.tls !== undefined && value.tls !== false) {
    const tls = value.tls;
    if (!isObject(tls)) throw new ServiceConfigError(`${where('tls')} must be a mapping with cert and key, or false`);
    unknownKeys(tls, TLS_KEYS, where('tls'));
    for (const key of ['cert', 'key'] as const) expect(typeof tls[key] === 'string' && tls[key] !== '', tls[key], where(`tls.${key}`), 'a file path');
    if (tls.ca !== undefined) expect(typeof tls.ca === 'string', tls.ca, where('tls.ca'), 'a file path');
    if (tls.listen !== undefined) address(tls.listen, where('tls.listen'));
    if (tls.requireClientCert !== undefined) expect(typeof tls.requireClientCert === 'boolean', tls.requireClientCert, where('tls.requireClientCert'), 'true or false');
    config.tls = tls as ServiceFileConfig['tls'];
  } else if (value.tls === false) {
    config.tls = false;
  }
  if (value.limits !== undefined) {
    if (!isObject(value.limits)) throw new ServiceConfigError(`${where('limits')} must be a mapping`);
    unknownKeys(value.limits, LIMIT_KEYS, where('limits'));
    const limits: Partial<CollectorLimits> = {};
    for (const key of LIMIT_KEYS) if (value.limits[key] !== undefined) limits[key] = positiveInteger(value.limits[key], where(`limits.${key}`));
    config.limits = limits;
  }
  if (value.store !== undefined) {
    const store = value.store;
    if (!isObject(store)) throw new ServiceConfigError(`${where('store')} must be a mapping`);
    unknownKeys(store, STORE_KEYS, where('store'));
    config.store = {};
    if (store.batchSize !== undefined) config.store.batchSize = positiveInteger(store.batchSize, where('store.batchSize'));
    if (store.batchDelayMs !== undefined) config.store.batchDelayMs = positiveInteger(store.batchDelayMs, where('store.batchDelayMs'));
    if (store.synchronous !== undefined) {
      config.store.synchronous = expect<'FULL' | 'NORMAL'>(store.synchronous === 'FULL' || store.synchronous === 'NORMAL', store.synchronous, where('store.synchronous'), 'FULL or NORMAL');
    }
  }
  if (value.escalation !== undefined) config.escalation = validateEscalation(value.escalation, where('escalation'));
  return config;
}

/** Read a JSON (`.json`) or YAML file; relative paths inside it are made relative to its directory. */
export function loadServiceConfig(file: string): ServiceFileConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ServiceConfigError(`cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = file.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new ServiceConfigError(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  const config = validateServiceConfig(parsed, file);
  const base = path.dirname(path.resolve(file));
  const resolve = (value: string): string => path.resolve(base, value);
  if (config.db !== undefined) config.db = resolve(config.db);
  if (config.rules !== undefined) config.rules = resolve(config.rules);
  if (config.tls) {
    config.tls = { ...config.tls, cert: resolve(config.tls.cert), key: resolve(config.tls.key) };
    if (config.tls.ca !== undefined) config.tls.ca = resolve(config.tls.ca);
  }
  const forwardTls = config.escalation?.syslog?.tls;
  if (forwardTls !== undefined) {
    for (const key of ['ca', 'cert', 'key'] as const) {
      const file = forwardTls[key];
      if (file !== undefined) forwardTls[key] = resolve(file);
    }
  }
  return config;
}

function escalationFrom(file: FileEscalation): EscalationConfig {
  const { syslog, ...rest } = file;
  const escalation: EscalationConfig = { ...rest };
  if (syslog !== undefined) {
    const { tls, ...forward } = syslog;
    escalation.syslog = { ...forward };
    if (tls !== undefined) {
      escalation.syslog.tls = {};
      if (tls.ca !== undefined) escalation.syslog.tls.ca = readPem(tls.ca, 'escalation.syslog.tls.ca');
      if (tls.cert !== undefined) escalation.syslog.tls.cert = readPem(tls.cert, 'escalation.syslog.tls.cert');
      if (tls.key !== undefined) escalation.syslog.tls.key = readPem(tls.key, 'escalation.syslog.tls.key');
      if (tls.servername !== undefined) escalation.syslog.tls.servername = tls.servername;
    }
  }
  return escalation;
}

/** Service options from a file configuration (TLS files are read here). `db` must be set by then. */
export function serviceOptionsFrom(config: ServiceFileConfig & { db: string }): CollectorServiceOptions {
  const options: CollectorServiceOptions = { dbPath: config.db };
  if (config.host !== undefined) options.host = config.host;
  if (config.udp !== undefined) options.udp = parseListener(config.udp, 'udp');
  if (config.tcp !== undefined) options.tcp = parseListener(config.tcp, 'tcp');
  if (config.tls === false) options.tls = false;
  else if (config.tls !== undefined) {
    const tls: TlsListenOptions = {
      cert: readPem(config.tls.cert, 'tls.cert'),
      key: readPem(config.tls.key, 'tls.key'),
      ...(config.tls.listen === undefined ? {} : parseListenAddress(config.tls.listen, 'tls.listen')),
    };
    if (config.tls.ca !== undefined) tls.ca = readPem(config.tls.ca, 'tls.ca');
    if (config.tls.requireClientCert !== undefined) tls.requireClientCert = config.tls.requireClientCert;
    options.tls = tls;
  }
  if (config.http !== undefined) options.http = parseListenAddress(config.http, 'http');
  if (config.token !== undefined) options.token = config.token;
  if (config.rules !== undefined) options.rules = config.rules;
  if (config.tickMs !== undefined) options.tickMs = config.tickMs;
  if (config.limits !== undefined) options.limits = config.limits;
  if (config.escalation !== undefined) options.escalation = escalationFrom(config.escalation);
  if (config.store !== undefined || config.chainKey !== undefined) {
    options.store = { ...config.store };
    if (config.chainKey !== undefined) options.store.chainKey = config.chainKey;
  }
  return options;
}
