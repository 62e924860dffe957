import type { Dispatcher } from './source-address';

/** A browser's User-Agent, as ZAP and Burp send: scanners that hide are the normal case. */
export const BROWSER_USER_AGENT = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';

/** A request the target could not be asked (refused, timed out, reset). */
export class UnreachableError extends Error {
  override name = 'UnreachableError';
}

export interface Exchange {
  /** Epoch ms when the request was sent. */
  at: number;
  method: string;
  path: string;
  status: number;
  ms: number;
}

export interface AttackResponse {
  status: number;
  contentType: string;
  /** The body as text, cut at the client's cap. */
  text: string;
  headers: Headers;
}

export interface RequestOptions {
  headers?: Record<string, string>;
  /** Sent as it is (a string lets a scenario send malformed JSON). */
  body?: string;
}

export interface AttackClientOptions {
  dispatcher?: Dispatcher;
  userAgent?: string;
  timeoutMs?: number;
  /** Bodies are cut here (log downloads can be large); default 2 MiB. */
  maxBodyBytes?: number;
}

function describeFailure(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  if ((error as Error).name === 'TimeoutError' || (error as Error).name === 'AbortError') return 'timed out';
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}

async function readCapped(response: Response, cap: number): Promise<string> {
  if (response.body === null) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      size += value.byteLength;
      if (size >= cap) {
        await reader.cancel();
        break;
      }
    }
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).subarray(0, cap).toString('utf8');
}

/**
 * The attacker's HTTP client: global fetch against one target, from one source address, no redirects
 * followed, every exchange remembered (bounded) so a scenario knows when its attack started.
 */
export class AttackClient {
  readonly baseUrl: string;
  readonly exchanges: Exchange[] = [];
  firstRequestAt: number | undefined;
  lastRequestAt: number | undefined;
  private readonly options: Required<Omit<AttackClientOptions, 'dispatcher'>> & { dispatcher?: Dispatcher };

  constructor(baseUrl: string, options: AttackClientOptions = {}) {
    this.baseUrl = baseUrl.replace(/\/+$/, '');
    this.options = {
      userAgent: options.userAgent ?? BROWSER_USER_AGENT,
      timeoutMs: options.timeoutMs ?? 10_000,
      maxBodyBytes: options.maxBodyBytes ?? 2 * 1024 * 1024,
      ...(options.dispatcher !== undefined && { dispatcher: options.dispatcher }),
    };
  }

  /** A client for the same target from the same address with another User-Agent. */
  withUserAgent(userAgent: string): AttackClient {
    return new AttackClient(this.baseUrl, { ...this.options, userAgent });
  }

  async request(method: string, path: string, options: RequestOptions = {}): Promise<AttackResponse> {
    const at = Date.now();
    this.firstRequestAt ??= at;
    this.lastRequestAt = at;
    const init: RequestInit = {
      method,
      headers: { 'User-Agent': this.options.userAgent, Accept: '*/*', ...options.headers },
      redirect: 'manual',
      signal: AbortSignal.timeout(this.options.timeoutMs),
    };
    if (options.body !== undefined) init.body = options.body;
    // Node's fetch takes undici's `dispatcher` (not in the DOM RequestInit type).
    if (this.options.dispatcher !== undefined) (init as { dispatcher?: unknown }).dispatcher = this.options.dispatcher;
    let response: Response;
    let text: string;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
      text = await readCapped(response, this.options.maxBodyBytes);
    } catch (error) {
      throw new UnreachableError(`${method} ${this.baseUrl}${path.slice(0, 80)}: ${describeFailure(error)}`);
    }
    if (this.exchanges.length < 2000) this.exchanges.push({ at, method, path: path.slice(0, 300), status: response.status, ms: Date.now() - at });
    return { status: response.status, contentType: response.headers.get('content-type') ?? '', text, headers: response.headers };
  }

  get(path: string, headers?: Record<string, string>): Promise<AttackResponse> {
    return this.request('GET', path, headers === undefined ? {} : { headers });
  }

  /** POST with `Content-Type: application/json`; `body` is stringified unless it is a string already. */
  postJson(path: string, body: unknown, headers?: Record<string, string>): Promise<AttackResponse> {
    return this.request('POST', path, {
      headers: { 'Content-Type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }
}

/** Parse a JSON body, or undefined. */
export function jsonOf(response: AttackResponse): unknown {
  try {
    return JSON.parse(response.text) as unknown;
  } catch {
    return undefined;
  }
}
