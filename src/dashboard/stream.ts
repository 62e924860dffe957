import type { ServerResponse } from 'node:http';

export interface EventStreamOptions {
  /** Clients at once; more are refused with 503 (default 32). */
  maxClients?: number;
  /** A client whose unsent data passes this is dropped; it reconnects and gets a fresh snapshot (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Comment lines that keep idle connections (and proxies) open (default 15 s). */
  pingMs?: number;
  /** The browser's reconnect delay hint (default 3 s). */
  retryMs?: number;
}

interface Client {
  response: ServerResponse;
}

/**
 * Server-sent events to the dashboards: named events, one JSON line of data each, ids counting up.
 * Bounded: a capped number of clients, and a slow client is dropped rather than buffered without end.
 */
export class EventStream {
  private readonly clients = new Set<Client>();
  private readonly maxClients: number;
  private readonly maxBufferedBytes: number;
  private readonly pingMs: number;
  private readonly retryMs: number;
  private pinger: NodeJS.Timeout | undefined;
  private nextId = 1;
  private closed = false;
  dropped = 0;
  refused = 0;

  constructor(options: EventStreamOptions = {}) {
    this.maxClients = options.maxClients ?? 32;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 1024 * 1024;
    this.pingMs = options.pingMs ?? 15_000;
    this.retryMs = options.retryMs ?? 3000;
  }

  get clientCount(): number {
    return this.clients.size;
  }

  /** Whether another client can attach now. */
  get full(): boolean {
    return this.closed || this.clients.size >= this.maxClients;
  }

  /**
   * Take over a response: headers, the retry hint, then `first` (the snapshot) as the first event.
   * Returns false (response untouched) when the stream is full or closed.
   */
  attach(response: ServerResponse, first: { event: string; data: unknown }): boolean {
    if (this.full) {
      this.refused++;
      return false;
    }
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    response.socket?.setNoDelay(true);
    // The socket's idle timeout (if any) must not cut a quiet stream.
    response.socket?.setTimeout(0);
    const client: Client = { response };
    this.clients.add(client);
    response.on('close', () => this.clients.delete(client));
    response.write(`retry: ${this.retryMs}\n\n`);
    this.send(client, this.frame(first.event, first.data));
    if (this.pinger === undefined) {
      this.pinger = setInterval(() => this.ping(), this.pingMs);
      this.pinger.unref();
    }
    return true;
  }

  /** Send an event to every client. */
  publish(event: string, data: unknown): void {
    if (this.clients.size === 0) return;
    const frame = this.frame(event, data);
    for (const client of this.clients) this.send(client, frame);
  }

  private frame(event: string, data: unknown): string {
    // JSON.stringify never emits CR or LF (they are escaped in strings), so one `data:` line holds it all.
    return `id: ${this.nextId++}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  }

  private send(client: Client, frame: string): void {
    const response = client.response;
    if (response.writableEnded || response.destroyed) return;
    if (response.writableLength > this.maxBufferedBytes) {
      this.dropped++;
      this.clients.delete(client);
      response.destroy();
      return;
    }
    response.write(frame);
  }

  private ping(): void {
    if (this.clients.size === 0) {
      clearInterval(this.pinger);
      this.pinger = undefined;
      return;
    }
    for (const client of this.clients) this.send(client, ': ping\n\n');
  }

  /** End every stream and refuse new ones. */
  close(): void {
    this.closed = true;
    if (this.pinger !== undefined) clearInterval(this.pinger);
    this.pinger = undefined;
    for (const client of this.clients) client.response.end();
    this.clients.clear();
  }
}
