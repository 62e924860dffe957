import type { ServerResponse } from 'node:http';

/**
 * The body a route answered with, observed by wrapping this one response's json/send/end. Used only on the
 * audited routes (login, basket, checkout, change-password), so other requests pay nothing. The captured
 * value is read in memory at 'finish' and never logged as such.
 */
export class CapturedBody {
  private json: unknown;
  private hasJson = false;
  private text: string | undefined;

  constructor(private readonly maxTextLength: number) {}

  recordJson(body: unknown): void {
    if (this.hasJson || this.text !== undefined) return;
    this.json = body;
    this.hasJson = true;
  }

  recordText(chunk: unknown): void {
    if (this.hasJson || this.text !== undefined) return;
    if (typeof chunk === 'string') this.text = chunk.slice(0, this.maxTextLength);
    else if (Buffer.isBuffer(chunk)) this.text = chunk.subarray(0, this.maxTextLength).toString('utf8');
  }

  /** The answer as a value: what res.json was given, else the text parsed as JSON when it is JSON. */
  value(): unknown {
    if (this.hasJson) return this.json;
    if (this.text === undefined) return undefined;
    const trimmed = this.text.trimStart();
    if (!trimmed.startsWith('{') && !trimmed.startsWith('[')) return this.text;
    try {
      return JSON.parse(this.text) as unknown;
    } catch {
      return this.text;
    }
  }
}

type Method = (...args: unknown[]) => unknown;

interface Patchable {
  json?: Method;
  send?: Method;
  end: Method;
}

export function captureBody(res: ServerResponse, maxTextLength = 64 * 1024): CapturedBody {
  const captured = new CapturedBody(maxTextLength);
  const target = res as unknown as Patchable;
  const originalJson = target.json;
  const originalSend = target.send;
  const originalEnd = target.end;
  if (typeof originalJson === 'function') {
    target.json = function json(this: unknown, ...args: unknown[]): unknown {
      // Express 4 still accepts res.json(status, body); the body is the last argument.
      captured.recordJson(args.length > 1 && typeof args[0] === 'number' ? args[1] : args[0]);
      return originalJson.apply(this, args);
    };
  }
  if (typeof originalSend === 'function') {
    target.send = function send(this: unknown, ...args: unknown[]): unknown {
      const body = args.length > 1 && typeof args[0] === 'number' ? args[1] : args[0];
      if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) captured.recordJson(body);
      else captured.recordText(body);
      return originalSend.apply(this, args);
    };
  }
  target.end = function end(this: unknown, ...args: unknown[]): unknown {
    // Below compression the bytes are gzip: only read a body that is not encoded.
    if (!res.hasHeader('content-encoding') && typeof args[0] !== 'function') captured.recordText(args[0]);
    return originalEnd.apply(this, args);
  };
  return captured;
}
