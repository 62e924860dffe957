import type { SequenceGap } from '../collector/record';
import type { ApiRecord, StoredAlertChange } from '../dashboard';
import type { Alert } from '../detect/alert';

/** A record as the collector's API returns it (MSG left out when it is one of our events). */
export type { ApiRecord };

/** An alert as stored (the detector's Alert plus the store's bookkeeping). */
export interface ApiAlert extends Alert {
  rowId?: number;
  recordCount?: number;
}

export interface ApiAlertDetail {
  alert: ApiAlert;
  changes: StoredAlertChange[];
  /** Every linked record id (up to the store's cap). */
  records: Array<{ recordId: number; seq?: number }>;
}

/** A hole in a source's sequence, as GET /api/gaps lists it. */
export type ApiGap = SequenceGap;

/** The collector's API could not be used: unreachable, refused the token, or answered nonsense. */
export class CollectorApiError extends Error {
  override name = 'CollectorApiError';
}

/** The collector's HTTP API (src/dashboard), with the bearer token. */
export class CollectorClient {
  readonly baseUrl: string;

  constructor(
    baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 10_000,
  ) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
  }

  async call<T>(method: string, path: string): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { Authorization: `Bearer ${this.token}`, Accept: 'application/json' },
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      const cause = (error as { cause?: { code?: string } }).cause;
      const why = (error as Error).name === 'TimeoutError' ? 'timed out' : (cause?.code ?? (error as Error).message);
      throw new CollectorApiError(`the collector at ${this.baseUrl} is unreachable (${why})`);
    }
    const text = await response.text();
    if (response.status === 401) throw new CollectorApiError(`the collector at ${this.baseUrl} refused the token (401)`);
    if (!response.ok) throw new CollectorApiError(`the collector answered ${response.status} to ${method} ${path.split('?')[0]}: ${text.slice(0, 120)}`);
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CollectorApiError(`the collector answered ${method} ${path.split('?')[0]} with something that is not JSON (is ${this.baseUrl} the collector's HTTP API?)`);
    }
  }

  /** Checks the URL and the token; returns the health details. */
  async check(): Promise<Record<string, unknown>> {
    return this.call<Record<string, unknown>>('GET', '/api/health');
  }

  /** The highest record id stored so far (0 when empty): the start of a scenario's window. */
  async latestRecordId(): Promise<number> {
    const page = await this.call<{ events: ApiRecord[] }>('GET', '/api/events?limit=1');
    return page.events[0]?.id ?? 0;
  }

  /** Records stored after `afterId`, oldest first, at most `maxRecords` (paged 1000 at a time). */
  async recordsAfter(afterId: number, filter: { text?: string } = {}, maxRecords = 20_000): Promise<ApiRecord[]> {
    const out: ApiRecord[] = [];
    let after = afterId;
    while (out.length < maxRecords) {
      const params = new URLSearchParams({ after: String(after), limit: '1000' });
      if (filter.text !== undefined) params.set('text', filter.text);
      const page = await this.call<{ events: ApiRecord[]; next: { after?: number } | null }>('GET', `/api/events?${params.toString()}`);
      out.push(...page.events);
      if (page.next?.after === undefined || page.events.length === 0) break;
      after = page.next.after;
    }
    return out.slice(0, maxRecords);
  }

  async alertDetail(id: string): Promise<ApiAlertDetail | undefined> {
    try {
      return await this.call<ApiAlertDetail>('GET', `/api/alerts/${encodeURIComponent(id)}?events=0`);
    } catch (error) {
      if (error instanceof CollectorApiError && / 404 /.test(error.message)) return undefined;
      throw error;
    }
  }

  /** Alerts active since `since` (ISO), newest first. */
  async alertsSince(since: string, limit = 1000): Promise<ApiAlert[]> {
    const params = new URLSearchParams({ since, limit: String(limit) });
    return (await this.call<{ alerts: ApiAlert[] }>('GET', `/api/alerts?${params.toString()}`)).alerts;
  }

  async gaps(): Promise<ApiGap[]> {
    return (await this.call<{ gaps: ApiGap[] }>('GET', '/api/gaps')).gaps;
  }

  /** A single-use ticket for the event stream (EventSource cannot send the token). */
  async streamTicket(): Promise<string> {
    return (await this.call<{ ticket: string }>('POST', '/api/stream-ticket')).ticket;
  }
}

/** An alert change as it reached the attack lab over the stream. */
export interface SeenAlert {
  kind: 'alert' | 'alert-update';
  alert: Alert;
  /** Epoch ms of arrival at the lab. */
  receivedAt: number;
}

const MAX_SEEN = 20_000;

/**
 * Follows the collector's server-sent event stream (what the dashboard shows live) and remembers when
 * each alert and alert update arrived: the lab's clock measures time to alert, not the collector's.
 * Reconnects (with a fresh ticket) when the collector restarts.
 */
export class AlertWatcher {
  private readonly seen: SeenAlert[] = [];
  private readonly waiters = new Set<() => void>();
  private controller: AbortController | undefined;
  private stopped = false;
  private running: Promise<void> | undefined;
  connected = false;
  connections = 0;
  lastError: string | undefined;

  constructor(private readonly client: CollectorClient) {}

  /** Resolves once the first connection is up (or failed: then the lab falls back to the REST API). */
  async start(timeoutMs = 5000): Promise<boolean> {
    let first: (ok: boolean) => void = () => undefined;
    const ready = new Promise<boolean>((resolve) => {
      first = resolve;
    });
    this.running = this.loop(first);
    const timer = new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs).unref());
    return Promise.race([ready, timer]);
  }

  changes(): readonly SeenAlert[] {
    return this.seen;
  }

  /** Wait until `until()` holds (checked on every change) or the time is up. */
  async waitFor(until: () => boolean, timeoutMs: number): Promise<boolean> {
    if (until()) return true;
    return new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(result);
      };
      const check = (): void => {
        if (until()) done(true);
      };
      const timer = setTimeout(() => done(until()), timeoutMs);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.controller?.abort();
    for (const waiter of [...this.waiters]) waiter();
    await this.running?.catch(() => undefined);
  }

  private async loop(first: (ok: boolean) => void): Promise<void> {
    let delay = 200;
    while (!this.stopped) {
      try {
        await this.connect(() => {
          first(true);
          delay = 200;
        });
      } catch (error) {
        this.lastError = (error as Error).message;
      }
      this.connected = false;
      if (this.stopped) break;
      await new Promise((resolve) => setTimeout(resolve, delay).unref());
      delay = Math.min(2000, delay * 2);
    }
    first(false);
  }

  private async connect(onOpen: () => void): Promise<void> {
    const ticket = await this.client.streamTicket();
    this.controller = new AbortController();
    const response = await fetch(`${this.client.baseUrl}/api/stream?ticket=${encodeURIComponent(ticket)}`, {
      headers: { Accept: 'text/event-stream' },
      signal: this.controller.signal,
    });
    if (!response.ok || response.body === null) throw new Error(`stream answered ${response.status}`);
    this.connected = true;
    this.connections++;
    onOpen();
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) !== -1) {
          this.frame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
        // A frame never grows without bound: the server sends one JSON line per event.
        if (buffer.length > 8 * 1024 * 1024) buffer = '';
      }
    } finally {
      reader.releaseLock();
    }
  }

  private frame(text: string): void {
    let event = 'message';
    let data = '';
    for (const line of text.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data += line.slice(5).trim();
    }
    if (event !== 'alert' && event !== 'alert-update') return;
    try {
      const alert = JSON.parse(data) as Alert;
      if (this.seen.length >= MAX_SEEN) this.seen.splice(0, MAX_SEEN / 4);
      this.seen.push({ kind: event, alert, receivedAt: Date.now() });
    } catch {
      return;
    }
    for (const waiter of [...this.waiters]) waiter();
  }
}
