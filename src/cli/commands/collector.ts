import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DetectionConfigError } from '../../detect';
import {
  DEFAULT_HTTP_PORT,
  ServiceConfigError,
  loadServiceConfig,
  parseListenAddress,
  parseListener,
  serviceOptionsFrom,
  startCollectorService,
  tokenProblem,
  type CollectorService,
  type ServiceFileConfig,
} from '../../dashboard';
import { UsageError, UserError, untilSignal, usageErrors, type Command } from '../command';

const USAGE = `a09-lab collector [--config FILE] [--db PATH] [--udp ADDR|off] [--tcp ADDR|off]
                  [--tls ADDR --cert PEM --key PEM [--ca PEM]] [--http ADDR] [--rules FILE] [--token TOKEN]
                  [--forward URL] [--webhook URL]

Receives syslog (RFC 5424/3164 over UDP, TCP, TLS), stores it in a hash-chained SQLite file, runs the
detection rules, keeps the alerts, and serves the API and live dashboard. Runs until SIGINT or SIGTERM.

  --config FILE   JSON or YAML settings (db, udp, tcp, tls, http, rules, tickMs, limits, store); flags win
  --db PATH       the SQLite store, alerts included (default: $A09_DB or .a09/collector.db)
  --udp ADDR      UDP listener, host:port or port, 'off' to disable (default 127.0.0.1:5514)
  --tcp ADDR      TCP listener, octet counting or LF framing (default 127.0.0.1:5514)
  --tls ADDR      TLS listener (RFC 5425), needs --cert and --key (default port 6514 when --cert is given)
  --cert PEM      server certificate chain (file); --key PEM its private key; --ca PEM for client certificates
  --http ADDR     API and dashboard (default 127.0.0.1:${DEFAULT_HTTP_PORT})
  --rules FILE    detection rules, JSON or YAML (default: the shipped rules)
  --forward URL   send each new alert on as syslog severity 1: tcp://, tls:// or udp://host:port
  --webhook URL   POST each new alert as JSON to this http(s) URL, with retries
                  (more escalation settings, such as headers and which changes go out: the config file)
  --token TOKEN   API bearer token, at least 16 characters (default: $A09_COLLECTOR_TOKEN, else a random one
                  printed at start). Prefer the environment: a flag shows in the process list.
Environment: A09_COLLECTOR_TOKEN, A09_CHAIN_KEY (HMAC key for the hash chain; verify needs it too), A09_DB.`;

function flagListener(value: string | undefined, flag: string): string | false | undefined {
  if (value === undefined) return undefined;
  try {
    return parseListener(value, flag) === false ? false : value;
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function flagAddress(value: string | undefined, flag: string): string | undefined {
  if (value === undefined) return undefined;
  try {
    parseListenAddress(value, flag);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return value;
}

type TokenSource = 'generated' | '--token' | 'A09_COLLECTOR_TOKEN' | 'the config file';

interface Settings {
  config: ServiceFileConfig & { db: string };
  tokenSource: TokenSource;
}

function settingsFrom(values: Record<string, string | boolean | undefined>): Settings {
  const text = (name: string): string | undefined => {
    const value = values[name];
    if (typeof value !== 'string') return undefined;
    if (value.length === 0) throw new UsageError(`--${name} is empty`);
    return value;
  };
  let file: ServiceFileConfig = {};
  const configPath = text('config');
  if (configPath !== undefined) file = loadServiceConfig(configPath);
  const db = text('db') ?? (process.env.A09_DB || undefined) ?? file.db ?? path.join('.a09', 'collector.db');
  const config: ServiceFileConfig & { db: string } = { ...file, db };
  const udp = flagListener(text('udp'), '--udp');
  if (udp !== undefined) config.udp = udp;
  const tcp = flagListener(text('tcp'), '--tcp');
  if (tcp !== undefined) config.tcp = tcp;
  const http = flagAddress(text('http'), '--http');
  if (http !== undefined) config.http = http;
  const rules = text('rules');
  if (rules !== undefined) config.rules = rules;
  const forward = text('forward');
  const webhook = text('webhook');
  if (forward !== undefined || webhook !== undefined) {
    const escalation = { ...file.escalation };
    if (forward !== undefined) escalation.syslog = { ...escalation.syslog, url: forward };
    if (webhook !== undefined) escalation.webhook = { ...escalation.webhook, url: webhook };
    config.escalation = escalation;
  }

  const tls = flagListener(text('tls'), '--tls');
  const cert = text('cert');
  const key = text('key');
  const ca = text('ca');
  if (tls === false) {
    config.tls = false;
  } else if (tls !== undefined || cert !== undefined || key !== undefined || ca !== undefined) {
    const fromFile = file.tls || undefined;
    const certFile = cert ?? fromFile?.cert;
    const keyFile = key ?? fromFile?.key;
    if (certFile === undefined || keyFile === undefined) throw new UsageError('TLS needs both --cert and --key');
    config.tls = { ...fromFile, cert: certFile, key: keyFile };
    if (tls !== undefined) config.tls.listen = tls;
    if (ca !== undefined) config.tls.ca = ca;
  }

  let tokenSource: TokenSource = 'generated';
  const flagToken = text('token');
  const envToken = process.env.A09_COLLECTOR_TOKEN || undefined;
  if (flagToken !== undefined) {
    config.token = flagToken;
    tokenSource = '--token';
  } else if (envToken !== undefined) {
    config.token = envToken;
    tokenSource = 'A09_COLLECTOR_TOKEN';
  } else if (file.token !== undefined) {
    tokenSource = 'the config file';
  }
  if (config.token !== undefined) {
    const problem = tokenProblem(config.token);
    if (problem !== undefined) throw new UserError(`${problem} (from ${tokenSource})`);
  }
  const chainKey = process.env.A09_CHAIN_KEY || undefined;
  if (chainKey !== undefined) config.chainKey = chainKey;
  return { config, tokenSource };
}

function describeStartFailure(error: unknown): Error {
  if (error instanceof DetectionConfigError || error instanceof ServiceConfigError) return new UserError(error.message);
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
    const detail = error as NodeJS.ErrnoException & { address?: string; port?: number };
    const where = detail.address !== undefined ? ` ${detail.address}:${detail.port ?? '?'}` : '';
    return new UserError(`cannot listen on${where}: ${code === 'EADDRINUSE' ? 'address in use' : code === 'EACCES' ? 'permission denied' : 'address not available'}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}

function printStart(service: CollectorService, settings: Settings): void {
  const a = service.addresses;
  const line = (name: string, value: string): void => console.log(`  ${name.padEnd(6)}${value}`);
  console.log('a09-lab collector: running (SIGINT or SIGTERM stops it)');
  if (a.udp) line('udp', `${a.udp.host}:${a.udp.port}`);
  if (a.tcp) line('tcp', `${a.tcp.host}:${a.tcp.port}`);
  if (a.tls) line('tls', `${a.tls.host}:${a.tls.port}`);
  line('http', service.url);
  line('db', path.resolve(settings.config.db));
  if (service.tokenGenerated) line('token', `${service.token}   (generated for this run; set A09_COLLECTOR_TOKEN to choose one)`);
  else line('token', `(from ${settings.tokenSource})`);
  const escalation = settings.config.escalation;
  if (escalation?.syslog !== undefined) line('alerts', `forwarded to ${escalation.syslog.url} (syslog severity 1)`);
  if (escalation?.webhook !== undefined) line('alerts', `posted to ${redactUrlCredentials(escalation.webhook.url)}`);
  if (service.staleAlertsClosed > 0) line('note', `${service.staleAlertsClosed} alerts left open by an earlier run were closed`);
}

/** A webhook URL may carry a secret (user:password@, a key in the query): show scheme, host and path only. */
function redactUrlCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search === '' ? '' : '?…'}`;
  } catch {
    return '(webhook)';
  }
}

export const collectorCommand: Command = {
  name: 'collector',
  summary: 'run the syslog collector with detection, alerts, the HTTP API and the live dashboard',
  usage: USAGE,
  async run(argv) {
    const { values } = usageErrors(() =>
      parseArgs({
        args: argv,
        options: {
          config: { type: 'string' },
          db: { type: 'string' },
          udp: { type: 'string' },
          tcp: { type: 'string' },
          tls: { type: 'string' },
          cert: { type: 'string' },
          key: { type: 'string' },
          ca: { type: 'string' },
          http: { type: 'string' },
          rules: { type: 'string' },
          token: { type: 'string' },
          forward: { type: 'string' },
          webhook: { type: 'string' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    );
    if (values.help) {
      console.log(this.usage);
      return 0;
    }
    let service: CollectorService;
    let settings: Settings;
    try {
      settings = settingsFrom(values);
      mkdirSync(path.dirname(path.resolve(settings.config.db)), { recursive: true });
      service = await startCollectorService({
        ...serviceOptionsFrom(settings.config),
        onError: (error) => console.error(`a09-lab collector: ${error.message}`),
      });
    } catch (error) {
      if (error instanceof UsageError || error instanceof UserError) throw error;
      throw describeStartFailure(error);
    }
    const stopped = untilSignal();
    printStart(service, settings);
    const signal = await stopped;
    console.log(`a09-lab collector: ${signal}, stopping`);
    await service.close();
    console.log('a09-lab collector: stopped');
    return 0;
  },
};
