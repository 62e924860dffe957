import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import TransportStream from 'winston-transport';
import { toJsonLine } from '../sanitize';
import type { AuditInfo, MonitorChange } from './transport';

export interface JsonLinesFileOptions extends TransportStream.TransportStreamOptions {
  /** Appended to; the directory is created. */
  path: string;
  /** fdatasync this often; 0 never. Default 1 s. */
  fsyncIntervalMs?: number;
  /** After a write error, reopen the file this often; default 5 s. */
  retryMs?: number;
}

export interface FileSinkStats {
  written: number;
  lost: number;
  ignored: number;
  error?: string;
}

const MAX_PENDING_BYTES = 1024 * 1024;
const fdatasync = promisify(fs.fdatasync);

/**
 * The local sink for when no collector is configured: one audit event per line, `toJsonLine` (printable
 * ASCII JSON, so no value can start a second line). Lines are batched per event loop turn (one write)
 * and synced on a timer. A write error never throws: 'monitor' reports it (disabled, with the loss) and
 * the file is reopened after retryMs; 'monitor' (enabled) when it writes again.
 */
export class JsonLinesFileTransport extends TransportStream {
  readonly path: string;
  private readonly options: JsonLinesFileOptions;
  private fd = -1;
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushImmediate: NodeJS.Immediate | undefined;
  private syncTimer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  private unsynced = false;
  private retryAt = 0;
  private disabled = false;
  private lostWhileDisabled = 0;
  private shut = false;
  private readonly counters: FileSinkStats = { written: 0, lost: 0, ignored: 0 };

  constructor(options: JsonLinesFileOptions) {
    super(options);
    this.options = options;
    this.path = path.resolve(options.path);
    this.on('error', () => undefined);
    this.open();
    const interval = options.fsyncIntervalMs ?? 1000;
    if (interval > 0) {
      this.syncTimer = setInterval(() => this.sync(), interval);
      this.syncTimer.unref();
    }
  }

  override log(info: AuditInfo, next: () => void): void {
    const event = info.event as unknown;
    if (typeof event !== 'object' || event === null) {
      this.counters.ignored++;
    } else if (this.shut) {
      this.lose(1, new Error('file sink closed'));
    } else {
      const line = `${toJsonLine(event)}\n`;
      this.pending.push(line);
      this.pendingBytes += line.length;
      if (this.pendingBytes >= MAX_PENDING_BYTES) this.flush();
      else if (this.flushImmediate === undefined) this.flushImmediate = setImmediate(() => this.flush());
    }
    next();
  }

  stats(): FileSinkStats {
    return { ...this.counters };
  }

  /** Write what is pending, sync, close the file, stop the timers. Never rejects. */
  override close(): Promise<void> {
    if (this.shut) return Promise.resolve();
    this.flush();
    this.shut = true;
    clearInterval(this.syncTimer);
    return (async () => {
      try {
        await this.syncing;
      } catch {
        // Reported through 'monitor' already.
      }
      if (this.fd >= 0) {
        try {
          fs.fdatasyncSync(this.fd);
        } catch {
          // Nothing more to do at close.
        }
        fs.closeSync(this.fd);
        this.fd = -1;
      }
    })();
  }

  private open(): boolean {
    if (this.fd >= 0) return true;
    if (Date.now() < this.retryAt) return false;
    try {
      fs.mkdirSync(path.dirname(this.path), { recursive: true });
      this.fd = fs.openSync(this.path, 'a');
      return true;
    } catch (error) {
      this.retryAt = Date.now() + (this.options.retryMs ?? 5000);
      this.lose(0, error);
      return false;
    }
  }

  private flush(): void {
    clearImmediate(this.flushImmediate);
    this.flushImmediate = undefined;
    if (this.pending.length === 0) return;
    const lines = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    if (!this.open()) {
      this.lose(lines.length);
      return;
    }
    const data = Buffer.from(lines.join(''), 'latin1');
    try {
      const written = fs.writeSync(this.fd, data);
      if (written !== data.length) throw new Error(`short write: ${written} of ${data.length} bytes`);
    } catch (error) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // Gone already.
      }
      this.fd = -1;
      this.retryAt = Date.now() + (this.options.retryMs ?? 5000);
      this.lose(lines.length, error);
      return;
    }
    this.counters.written += lines.length;
    this.unsynced = true;
    if (this.disabled) {
      const change: MonitorChange = { state: 'enabled', reason: 'file_error', lost: this.lostWhileDisabled };
      this.disabled = false;
      this.lostWhileDisabled = 0;
      process.nextTick(() => this.emit('monitor', change));
    }
  }

  private sync(): void {
    if (this.syncing !== undefined || !this.unsynced || this.fd < 0) return;
    this.unsynced = false;
    const fd = this.fd;
    this.syncing = fdatasync(fd)
      .catch((error: unknown) => this.lose(0, error))
      .finally(() => (this.syncing = undefined));
  }

  private lose(count: number, error?: unknown): void {
    this.counters.lost += count;
    if (error !== undefined) this.counters.error = error instanceof Error ? error.message : String(error);
    if (this.disabled) {
      this.lostWhileDisabled += count;
      return;
    }
    this.disabled = true;
    this.lostWhileDisabled = count;
    const change: MonitorChange = { state: 'disabled', reason: 'file_error', lost: count };
    if (this.counters.error !== undefined) change.error = this.counters.error;
    process.nextTick(() => this.emit('monitor', change));
  }
}
