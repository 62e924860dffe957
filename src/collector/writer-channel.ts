import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../ship/worker-thread';
import { BatchWriter, WriteQueue, type WriteBatch, type WriterOptions, type WriterReply } from './store-writer';

/** Where the store's batches go: a worker thread (default) or the writer inline. */
export interface WriterChannel {
  submit(batch: WriteBatch): void;
  /** Write what was submitted (or give up after retries) and close the file. */
  close(): Promise<void>;
}

type ReplyHandler = (reply: Exclude<WriterReply, { type: 'closed' }>) => void;

export class InlineChannel implements WriterChannel {
  private readonly queue: WriteQueue;
  private readonly closed: Promise<void>;
  private markClosed: () => void = () => undefined;

  constructor(options: WriterOptions, onReply: ReplyHandler) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.queue = new WriteQueue(new BatchWriter(options), (reply) => {
      if (reply.type === 'closed') this.markClosed();
      else onReply(reply);
    });
  }

  submit(batch: WriteBatch): void {
    this.queue.handle({ type: 'batch', batch });
  }

  close(): Promise<void> {
    this.queue.handle({ type: 'close' });
    return this.closed;
  }
}

export class ThreadChannel implements WriterChannel {
  private worker: Worker;
  /** Submitted and not yet committed: sent again to a restarted worker (it skips what it had committed). */
  private readonly unconfirmed: WriteBatch[] = [];
  private restartDelayMs = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private closing = false;
  private readonly closed: Promise<void>;
  private markClosed: () => void = () => undefined;

  constructor(
    private readonly options: WriterOptions,
    private readonly onReply: ReplyHandler,
    private readonly onError: (error: Error) => void,
  ) {
    this.closed = new Promise((resolve) => (this.markClosed = resolve));
    this.worker = this.spawn();
  }

  private spawn(): Worker {
    const worker = startModuleWorker(__filename, 'store-worker', this.options);
    worker.on('message', (reply: WriterReply) => {
      if (reply.type === 'closed') {
        this.markClosed();
        return;
      }
      if (reply.type === 'committed') {
        this.restartDelayMs = 0;
        if (this.unconfirmed[0]?.batch === reply.result.batch) this.unconfirmed.shift();
      }
      this.onReply(reply);
    });
    worker.on('error', (error) => this.onError(new Error(`collector store writer failed: ${error.message}`)));
    worker.on('exit', (code) => {
      if (this.closing) {
        this.markClosed();
        return;
      }
      // Restart with backoff, and hand it again what it had not committed (it skips what it had).
      this.restartDelayMs = Math.min(Math.max(this.restartDelayMs * 2, 100), 5000);
      this.onError(new Error(`collector store writer exited (${code}); restarting it in ${this.restartDelayMs} ms`));
      this.restartTimer = setTimeout(() => {
        this.restartTimer = undefined;
        this.worker = this.spawn();
        for (const batch of this.unconfirmed) this.worker.postMessage({ type: 'batch', batch });
      }, this.restartDelayMs);
    });
    return worker;
  }

  submit(batch: WriteBatch): void {
    this.unconfirmed.push(batch);
    this.worker.postMessage({ type: 'batch', batch });
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.closing = true;
      // Between a crash and its restart: restart now for a last try at what it had not committed.
      if (this.restartTimer !== undefined) {
        clearTimeout(this.restartTimer);
        this.restartTimer = undefined;
        this.worker = this.spawn();
        for (const batch of this.unconfirmed) this.worker.postMessage({ type: 'batch', batch });
      }
      this.worker.postMessage({ type: 'close' });
    }
    return this.closed;
  }
}
