import type { ErrorRequestHandler, Express, RequestHandler } from 'express';

/**
 * stock: Juice Shop as shipped (no audit events, access log local only).
 * naive: what a typical team bolts on (express-winston defaults + winston-syslog over UDP).
 * fixed: the a09 middleware, supplied by `fixedHooks()` in ./fixed (owned by the middleware helper).
 */
export type ShopMode = 'stock' | 'naive' | 'fixed';

/**
 * Mount points a mode (or a test) can use, in the order the shop applies them:
 * - `first`: right after `express()`, before anything else (what a preload gets);
 * - `onApp`: called once with the app right after `first` (e.g. `app.param('id', ...)`);
 * - `helmet`: mount `helmet()` with its defaults after Juice Shop's own noSniff/frameguard;
 * - `afterJsonParser`: right after the named `jsonParser` middleware (req.body and req.rawBody are set);
 * - `replaceAccessLog`: mounted instead of morgan('combined');
 * - `wrapErrorHandler`: given the `errorhandler()` instance, returns what is mounted in its place (last);
 * - `close`: called by `Shop.close()` after the listeners closed, to flush and stop transports.
 */
export interface ShopHooks {
  first?: RequestHandler[];
  afterJsonParser?: RequestHandler[];
  replaceAccessLog?: RequestHandler;
  onApp?: (app: Express) => void;
  wrapErrorHandler?: (handler: ErrorRequestHandler) => ErrorRequestHandler[] | ErrorRequestHandler;
  helmet?: boolean;
  close?: () => Promise<void> | void;
}

/** A syslog receiver for naive mode (winston-syslog, RFC 3164 over UDP). */
export interface CollectorAddress {
  host: string;
  port: number;
}

/** How the naive team's winston logger writes locally besides syslog. */
export interface NaiveLoggingOptions {
  /** winston Console transport (default true, as a team would). Tests turn it off to keep output readable. */
  console?: boolean;
  /** winston File transport path; default `<logDir>/app.log` (so it shows in /support/logs); false for none. */
  file?: string | false;
}

export interface ShopKeyPair {
  privateKeyPem: string;
  publicKeyPem: string;
}

export interface ShopOptions {
  mode: ShopMode;
  /** Juice Shop's `logs/`: access logs and /support/logs are served from here. Created if missing. */
  logDir: string;
  hooks?: ShopHooks;
  /** naive mode: where winston-syslog sends (UDP, RFC 3164). Absent: no syslog transport. */
  collector?: CollectorAddress;
  naive?: NaiveLoggingOptions;
  /** RS256 key pair; generated per shop when absent (2048-bit generation costs ~0.1–1 s). */
  keys?: ShopKeyPair;
  /** SQLite database file; default in-memory. An existing file is wiped and reseeded (Juice Shop syncs with force). */
  dbFile?: string;
  /** Opaque settings handed to `fixedHooks()` in fixed mode. */
  fixed?: Readonly<Record<string, unknown>>;
}

/** What fixed mode's `fixedHooks(context)` in ./fixed receives. */
export interface FixedModeContext {
  options: Readonly<ShopOptions>;
  publicKeyPem: string;
  logDir: string;
}

export type FixedHooksFactory = (context: FixedModeContext) => ShopHooks | Promise<ShopHooks>;

export interface ListeningShop {
  /** `http://<host>:<port>` */
  url: string;
  port: number;
  close(): Promise<void>;
}

export interface Shop {
  app: Express;
  mode: ShopMode;
  publicKeyPem: string;
  logDir: string;
  /** Absolute path of today's access log (`<logDir>/access.log.<YYYY-MM-DD>`, local date like file-stream-rotator). */
  accessLogPath(date?: Date): string;
  /** Signs a payload with the shop's private key exactly as the login does (RS256, `iat`, no `exp`). */
  signToken(payload: object): string;
  listen(port?: number, host?: string): Promise<ListeningShop>;
  /** Closes every listener, the loggers, the access log and the database. Idempotent. */
  close(): Promise<void>;
}
