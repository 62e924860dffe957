import * as http from 'node:http';
import * as https from 'node:https';
import { toJsonLine } from '../../sanitize';
import { Backoff } from '../../ship/backoff';
import type { AlertChange } from '../alert';
import { IdleWaiters } from './idle';

export interface WebhookOptions {
  /** http:// or https:// */
  url: string;
  /** Extra request headers (an Authorization token, for instance). */
  headers?: Record<string, string>;
  /** One attempt fails after this long; default 5000 ms. */
  timeoutMs?: number;
  /** Attempts per alert before it is given up; default 5. */
  maxAttempts?: number;
  /** Capped exponential backoff between attempts; default 500 ms doubling up to 30 s. */
  backoff?: { initialMs?: number; maxMs?: number; random?: () => number };
  /** Posts waiting; the oldest is dropped past it. Default 1000. */
  maxQueue?: number;
}

export interface WebhookStats {
  queued: number;
  delivered: number;
  /** Attempts that failed and were tried again. */
  retries: number;
  /** Given up after maxAttempts, or refused for good (4xx other than 408/429). */
  failed: number;
  /** Dropped because the queue was full. */
  dropped: number;
  lastError?: string;
}

interface Post {
  body: string;
  attempts: number;
}

/** A JSON body both machines and chat webhooks (Slack, Mattermost: `text`) can take. */
export function webhookBody(change: AlertChange): string {
  const alert = change.alert;
  const verb = change.kind === 'alert' ? 'opened' : change.kind === 'alert-update' ? 'updated' : 'closed';
  const text = `[${alert.level}] ${alert.title} (${verb}, count ${alert.count}): ${alert.summary}`;
  return toJsonLine({ text, change: change.kind, alert });
}

/**
 * Posts alert changes to a webhook, one at a time in order, with timeouts and capped exponential backoff.
 * The queue is bounded and nothing is awaited by the caller: a dead webhook costs memory up to maxQueue
 * posts and never blocks detection.
 */
export class WebhookPoster {
  private readonly target: URL;
  private readonly queue: Post[] = [];
  private readonly backoff: Backoff;
  private readonly maxQueue: number;
  private readonly maxAttempts: number;
  private readonly timeoutMs: number;
  private busy = false;
  private closed = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private inflight: http.ClientRequest | undefined;
  private readonly idleWaiters = new IdleWaiters();
  private counters = { delivered: 0, retries: 0, failed: 0, dropped: 0 };
  private lastError: string | undefined;

  constructor(private readonly options: WebhookOptions) {
    let target: URL;
    try {
      target = new URL(options.url);
    } catch {
      throw new TypeError(`webhook URL ${JSON.stringify(options.url)} is not a URL`);
    }
    if (target.protocol !== 'http:' && target.protocol !== 'https:') throw new TypeError(`webhook URL ${JSON.stringify(options.url)}: the scheme must be http or https`);
    this.target = target;
    this.backoff = new Backoff({ initialMs: options.backoff?.initialMs ?? 500, maxMs: options.backoff?.maxMs ?? 30_000, random: options.backoff?.random });
    this.maxQueue = options.maxQueue ?? 1000;
    this.maxAttempts = options.maxAttempts ?? 5;
    this.timeoutMs = options.timeoutMs ?? 5000;
  }

  post(change: AlertChange): void {
    if (this.closed) return;
    if (this.queue.length >= this.maxQueue) {
      // Never drop the post in flight (index 0 while busy): drop the oldest waiting one.
      this.queue.splice(this.busy ? 1 : 0, 1);
      this.counters.dropped++;
    }
    this.queue.push({ body: webhookBody(change), attempts: 0 });
    this.next();
  }

  /** Resolves when nothing is queued or in flight (true) or after timeoutMs (false). */
  async idle(timeoutMs: number): Promise<boolean> {
    if (this.queue.length === 0 && !this.busy) return true;
    return this.idleWaiters.wait(timeoutMs);
  }

  /** Stop: the post in flight is aborted, queued ones are discarded. */
  close(): void {
    this.closed = true;
    clearTimeout(this.retryTimer);
    this.inflight?.destroy();
    this.queue.length = 0;
  }

  stats(): WebhookStats {
    const stats: WebhookStats = { queued: this.queue.length, ...this.counters };
    if (this.lastError !== undefined) stats.lastError = this.lastError;
    return stats;
  }

  private next(): void {
    if (this.busy || this.closed) return;
    const post = this.queue[0];
    if (post === undefined) {
      this.idleWaiters.wake();
      return;
    }
    this.busy = true;
    post.attempts++;
    this.send(post.body, (error) => {
      this.inflight = undefined;
      if (this.closed) return;
      if (error === undefined) {
        this.counters.delivered++;
        this.backoff.reset();
        this.finish();
        return;
      }
      this.lastError = error.message;
      if ((error as PermanentError).permanent === true || post.attempts >= this.maxAttempts) {
        this.counters.failed++;
        this.finish();
        return;
      }
      this.counters.retries++;
      this.retryTimer = setTimeout(() => {
        this.busy = false;
        this.next();
      }, this.backoff.next());
      this.retryTimer.unref();
    });
  }

  private finish(): void {
    this.queue.shift();
    this.busy = false;
    this.next();
  }

  private send(body: string, done: (error: Error | undefined) => void): void {
    const transport = this.target.protocol === 'https:' ? https : http;
    let settled = false;
    const settle = (error: Error | undefined): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      done(error);
    };
    const request = transport.request(
      this.target,
      {
        method: 'POST',
        agent: false,
        headers: {
          'user-agent': 'a09-lab-detect',
          ...this.options.headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        },
      },
      (response) => {
        const status = response.statusCode ?? 0;
        response.resume();
        response.on('error', () => undefined);
        if (status >= 200 && status < 300) settle(undefined);
        else settle(httpError(status));
      },
    );
    this.inflight = request;
    const timer = setTimeout(() => request.destroy(new Error(`webhook timed out after ${this.timeoutMs} ms`)), this.timeoutMs);
    timer.unref();
    request.on('error', (error) => settle(error));
    request.on('close', () => settle(new Error('webhook connection closed without an answer')));
    request.end(body);
  }
}

interface PermanentError extends Error {
  permanent?: boolean;
}

/** 4xx means the webhook refuses this post: trying again cannot help, except for 408 and 429. */
function httpError(status: number): Error {
  const error: PermanentError = new Error(`webhook answered ${status}`);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) error.permanent = true;
  return error;
}
