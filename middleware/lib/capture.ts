import { type IncomingMessage, ServerResponse } from 'node:http';
import { getContext, type RequestContext } from './context';

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

  /** A body was recorded: later json/send/end calls (send ends through end) add nothing. */
  get settled(): boolean {
    return this.hasJson || this.text !== undefined;
  }

  recordJson(body: unknown): void {
    if (this.settled) return;
    this.json = body;
    this.hasJson = true;
  }

  recordText(chunk: unknown): void {
    if (this.settled) return;
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
type MethodName = 'json' | 'send' | 'end';

const METHODS: readonly MethodName[] = ['json', 'send', 'end'];

/** The body as the arguments of json/send/end carry it (Express 4 still accepts `(status, body)`). */
function record(captured: CapturedBody, name: MethodName, res: ServerResponse, args: unknown[]): void {
  // Without request-context's shared shapes (lib/shapes.ts: off on V8 13+, or turned off), each property read
  // on an Express response misses V8's inline caches: none once a body is recorded.
  if (captured.settled) return;
  const body = args.length > 1 && typeof args[0] === 'number' ? args[1] : args[0];
  if (name === 'json') captured.recordJson(body);
  else if (name === 'send') {
    if (typeof body === 'object' && body !== null && !Buffer.isBuffer(body)) captured.recordJson(body);
    else captured.recordText(body);
  } else if (!res.hasHeader('content-encoding') && typeof args[0] !== 'function') {
    // Below compression the bytes are gzip: only read a body that is not encoded.
    captured.recordText(args[0]);
  }
}

const patchedPrototypes = new WeakSet<object>();

/**
 * Express gives each app its own response prototype (`app.response`): wrap json/send/end there once, and
 * have the wrappers reach the request's context through `res.req`. Patching each response, or marking it,
 * would add a property to it: after Express's setPrototypeOf that costs V8 a new hidden class per request
 * whenever the response keeps the detached map Express leaves it on (lib/shapes.ts).
 */
function patchPrototype(proto: Record<MethodName, unknown>): void {
  patchedPrototypes.add(proto);
  for (const name of METHODS) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const wrapped = function (this: ServerResponse, ...args: unknown[]): unknown {
      // Through the request's context: nothing is added to the response (see patchPrototype's comment).
      const req = (this as unknown as { req?: IncomingMessage }).req;
      const captured = req === undefined ? undefined : getContext(req)?.capture;
      if (captured !== undefined) record(captured, name, this, args);
      return (original as Method).apply(this, args);
    };
    Object.defineProperty(wrapped, 'name', { value: name });
    Object.defineProperty(proto, name, { value: wrapped, writable: true, configurable: true, enumerable: false });
  }
}

/** Capture what `res` answers with, kept by the request's context (`res.req` leads the wrappers to it). */
export function captureBody(context: RequestContext, res: ServerResponse, maxTextLength = 64 * 1024): CapturedBody {
  const captured = new CapturedBody(maxTextLength);
  const proto: unknown = Object.getPrototypeOf(res);
  const isAppPrototype =
    typeof proto === 'object' && proto !== null && proto !== ServerResponse.prototype && typeof (proto as { json?: unknown }).json === 'function';
  if (isAppPrototype) {
    if (!patchedPrototypes.has(proto)) patchPrototype(proto as Record<MethodName, unknown>);
    context.capture = captured;
    return captured;
  }
  // A plain Node response (or one whose methods were replaced on the instance): wrap this response only.
  const target = res as unknown as Partial<Record<MethodName, Method>>;
  for (const name of METHODS) {
    const original = target[name];
    if (typeof original !== 'function') continue;
    target[name] = function (this: ServerResponse, ...args: unknown[]): unknown {
      record(captured, name, res, args);
      return original.apply(this, args);
    };
  }
  return captured;
}
