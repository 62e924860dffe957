import type { CollectedRecord } from '../../src/collector/record';
import { EventSource, type EventInput } from '../../src/events';

/** A clock the tests move by hand: no sleeps, no real time. */
export class ManualClock {
  constructor(public ms = Date.UTC(2026, 0, 15, 9, 0, 0)) {}
  readonly now = (): number => this.ms;
  advance(ms: number): number {
    this.ms += ms;
    return this.ms;
  }
}

const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

/**
 * Builds records as the collector would hand them over: real events from an EventSource (so every
 * event passes the schema checks), stamped with the manual clock, with increasing record ids.
 */
export class Traffic {
  readonly source: EventSource;
  private nextId = 1;
  private nextRequest = 1;
  /** How far event times lie behind receipt (a replayed spool); negative: a sender clock running ahead. */
  eventLagMs = 0;

  constructor(
    readonly clock: ManualClock,
    options: { host?: string; instance?: string } = {},
  ) {
    this.source = new EventSource({ app: 'juice-shop', host: options.host ?? 'shop-1', instance: options.instance, hmacKey: 'test-key' });
  }

  record(input: EventInput): CollectedRecord {
    const event = this.source.create({ ...input, at: new Date(this.clock.ms - this.eventLagMs) });
    return {
      id: this.nextId++,
      receivedAt: new Date(this.clock.ms).toISOString(),
      transport: 'tcp',
      peer: '127.0.0.1:40000',
      format: 'rfc5424',
      host: event.host,
      app: event.app,
      msgId: event.type,
      message: JSON.stringify(event),
      event,
    };
  }

  raw(message: string, format: 'rfc3164' | 'raw' = 'rfc3164'): CollectedRecord {
    return {
      id: this.nextId++,
      receivedAt: new Date(this.clock.ms).toISOString(),
      transport: 'udp',
      peer: '127.0.0.1:51514',
      format,
      host: 'naive-shop',
      app: 'juice-shop',
      message,
    };
  }

  private where(method: string, url: string, status: number, route?: string) {
    return { method, url, route, status, requestId: `req-${this.nextRequest++}` };
  }

  request(ip: string, method: string, url: string, status: number, userAgent = BROWSER): CollectedRecord {
    return this.record({
      type: 'http_request',
      outcome: status >= 500 ? 'error' : status >= 400 ? 'failure' : 'success',
      who: { ip, userAgent },
      where: this.where(method, url, status),
    });
  }

  loginFail(ip: string, email: string, userAgent = BROWSER): CollectedRecord {
    return this.record({
      type: 'authn_login_fail',
      outcome: 'failure',
      reason: 'invalid_credentials',
      email,
      who: { ip, userAgent },
      where: this.where('POST', '/rest/user/login', 401, '/rest/user/login'),
    });
  }

  loginSuccess(ip: string, email: string, userId: string): CollectedRecord {
    return this.record({
      type: 'authn_login_success',
      outcome: 'success',
      email,
      who: { ip, userId, userAgent: BROWSER },
      where: this.where('POST', '/rest/user/login', 200, '/rest/user/login'),
    });
  }

  heartbeat(intervalMs?: number): CollectedRecord {
    return this.record({ type: 'sys_heartbeat', outcome: 'info', detail: intervalMs !== undefined ? { intervalMs } : {} });
  }
}
