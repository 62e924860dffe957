'use strict';
/**
 * The preload behind register.cjs: mounts the a09 middleware into an unmodified Juice Shop (or anything
 * built like it) at its own mount points, by wrapping what its server module requires:
 * - `express`: the first app `express()` creates gets the request context (then helmet, the audits and the
 *   log guard) as its first middleware and `app.param` for basket ids; its `app.use` is watched so the body
 *   snapshot goes right after the middleware named `jsonParser`;
 * - `errorhandler`: each handler it makes is wrapped by the error audit (generic replies with an incident
 *   id); `title` reads and writes through to the module (server.ts sets it after requiring);
 * - `morgan`: the access line is written with secrets in the URL and referrer redacted;
 * - the app's server `listen`: bound to A09_BIND_HOST when set; the startup line is printed once it listens.
 * Nothing here may break the shop: every failure is a loud line on stderr and the shop runs on.
 */
const http = require('node:http');
const path = require('node:path');
const { setTimeout } = require('node:timers');
const { readConfig } = require('./config.cjs');
const { hookListen, listenArgsWithHost } = require('./listen.cjs');
const { hookRequire } = require('./module-hook.cjs');
const { describeError, fixedErrorHandler, naiveErrorHandler, ownModule, setUpFixed, setUpNaive } = require('./setup.cjs');

const PREFIX = 'a09 preload';
const MAX_EMIT_ERROR_LINES = 5;

class Preload {
  /**
   * @param {ReturnType<typeof readConfig>} config
   * @param {{ out(line: string): void, err(line: string): void }} output
   */
  constructor(config, output) {
    this.config = config;
    this.output = output;
    this.loadingOwn = false;
    this.app = undefined;
    this.otherApps = 0;
    /** fixed: the a09 stack; naive: the naive team's logging. */
    this.stack = undefined;
    this.naive = undefined;
    this.active = false;
    this.emitter = undefined;
    this.redactUrl = undefined;
    this.jwt = 'not read';
    this.seen = { jsonParser: false, errorhandlerMade: false, errorhandlerMounted: false, morgan: false };
    this.ourErrorHandlers = new WeakSet();
    this.servers = new WeakSet();
    this.listening = undefined;
    this.bound = undefined;
    this.announced = false;
    this.emitErrors = 0;
    this.unhooks = [];
  }

  refuse(what, why) {
    this.output.err(`${PREFIX}: REFUSED ${what}: ${why}`);
  }

  /** Requires one of our built modules, with the require hook off (our code gets the real packages). */
  own(relative) {
    this.loadingOwn = true;
    try {
      return ownModule(this.config.packageDir, relative);
    } finally {
      this.loadingOwn = false;
    }
  }

  install() {
    this.unhooks.push(
      hookRequire(
        {
          express: (exports) => this.wrapExpress(exports),
          errorhandler: (exports) => this.wrapErrorhandler(exports),
          morgan: (exports) => this.wrapMorgan(exports),
        },
        () => this.loadingOwn,
      ),
    );
    this.unhooks.push(hookListen((server, args) => this.onListen(server, args)));
  }

  uninstall() {
    for (const unhook of this.unhooks.splice(0)) unhook();
  }

  // ---- express ---------------------------------------------------------------------------------

  wrapExpress(express) {
    if (typeof express !== 'function') return express;
    return new Proxy(express, {
      apply: (target, thisArg, args) => {
        const app = Reflect.apply(target, thisArg, args);
        try {
          this.onApp(app, callerFile());
        } catch (error) {
          this.refuse('express()', `setting up the app failed: ${describeError(error)}; the shop runs without a09`);
        }
        return app;
      },
    });
  }

  onApp(app, caller) {
    // The shop's app is the first one its own code creates: an app a library makes (in node_modules, while
    // server.js imports it) is not the shop. Our own package may sit in node_modules (the practice shop).
    const fromLibrary = caller !== undefined && caller.includes(`${path.sep}node_modules${path.sep}`) && !caller.startsWith(this.config.packageDir + path.sep);
    if (this.app !== undefined || fromLibrary) {
      // Juice Shop creates one app; a second (a sub-app, a test app) or a library's is left alone.
      this.otherApps += 1;
      return;
    }
    this.app = app;
    if (this.config.mode === 'off') return;
    this.setUp(app);
    if (!this.active) return;
    this.watchUse(app);
  }

  setUp(app) {
    const io = {
      own: (relative) => this.own(relative),
      refuse: (what, why) => this.refuse(what, why),
      onEmitError: (error) => this.onEmitError(error),
    };
    const mounted = this.config.mode === 'fixed' ? setUpFixed(this.config, io) : setUpNaive(this.config, io);
    if (mounted === undefined) return;
    if (mounted.kind === 'fixed') {
      this.stack = mounted.stack;
      this.emitter = mounted.emitter;
      this.redactUrl = mounted.redactUrl;
      this.jwt = mounted.jwt;
      for (const handler of mounted.first) app.use(handler);
      this.stack.param(app);
    } else {
      this.naive = mounted.naive;
    }
    this.active = true;
  }

  onEmitError(error) {
    this.emitErrors += 1;
    if (this.emitErrors <= MAX_EMIT_ERROR_LINES) {
      this.output.err(`${PREFIX}: an audit event could not be emitted: ${describeError(error)}${this.emitErrors === MAX_EMIT_ERROR_LINES ? ' (further ones are not shown)' : ''}`);
    }
  }

  /** Watches `app.use` for Juice Shop's named `jsonParser` (insert after it) and our error handler. */
  watchUse(app) {
    const originalUse = app.use;
    const afterUse = (target, args) => this.afterUse(target, args, originalUse);
    app.use = function a09WatchedUse(...args) {
      const result = Reflect.apply(originalUse, this, args);
      afterUse(this, args);
      return result;
    };
  }

  /** After each `app.use`: the body snapshot (or express-winston) right after `jsonParser`; note our error handler. */
  afterUse(target, args, originalUse) {
    try {
      const handlers = args.flat(Infinity).filter((arg) => typeof arg === 'function');
      if (!this.seen.jsonParser && handlers.some((handler) => handler.name === 'jsonParser')) {
        this.seen.jsonParser = true;
        const after = this.stack !== undefined ? this.stack.afterJsonParser : [this.naive.requestLogger];
        for (const handler of after) Reflect.apply(originalUse, target, [handler]);
      }
      if (handlers.some((handler) => this.ourErrorHandlers.has(handler))) {
        this.seen.errorhandlerMounted = true;
        this.maybeAnnounce();
      }
    } catch (error) {
      this.refuse('app.use', `watching the middleware order failed: ${describeError(error)}`);
    }
  }

  // ---- errorhandler ----------------------------------------------------------------------------

  wrapErrorhandler(errorhandler) {
    if (typeof errorhandler !== 'function') return errorhandler;
    // A Proxy: `errorhandler.title = ...` (server.ts) lands on the module, where errorhandler reads it.
    return new Proxy(errorhandler, {
      apply: (target, thisArg, args) => {
        const handler = Reflect.apply(target, thisArg, args);
        try {
          return this.wrapErrorHandlerInstance(handler, target);
        } catch (error) {
          this.refuse('errorhandler', `wrapping failed: ${describeError(error)}`);
          return handler;
        }
      },
    });
  }

  wrapErrorHandlerInstance(handler, module) {
    if (!this.active) return handler;
    this.seen.errorhandlerMade = true;
    // The generic page takes its title from the module (server.ts sets errorhandler.title after requiring).
    const wrapped = this.stack !== undefined
      ? fixedErrorHandler(this.stack, handler, () => module.title)
      : naiveErrorHandler(this.naive.errorLogger, handler);
    this.ourErrorHandlers.add(wrapped);
    return wrapped;
  }

  // ---- morgan ----------------------------------------------------------------------------------

  wrapMorgan(morgan) {
    if (typeof morgan !== 'function' || typeof morgan.compile !== 'function') return morgan;
    return new Proxy(morgan, {
      apply: (target, thisArg, args) => {
        if (this.stack === undefined || this.redactUrl === undefined) return Reflect.apply(target, thisArg, args);
        try {
          const redacting = this.redactingFormat(target, args);
          this.seen.morgan = true;
          return Reflect.apply(target, thisArg, redacting);
        } catch (error) {
          this.refuse('morgan', `the access log could not be redacted: ${describeError(error)}`);
          return Reflect.apply(target, thisArg, args);
        }
      },
    });
  }

  /** morgan(format, options) -> the same call with a format that sees the URL and referrer redacted. */
  redactingFormat(morgan, args) {
    let [format, options] = args;
    if (format !== null && typeof format === 'object') {
      // morgan(options), the old signature.
      options = format;
      format = options.format;
    }
    // morgan's own lookup: a named format, a format string, or the default.
    const found = typeof format === 'function' ? format : morgan[format] || format || morgan.default;
    const compiled = typeof found === 'function' ? found : morgan.compile(found);
    const redact = this.redactUrl;
    const redacting = function a09RedactedFormat(tokens, req, res) {
      return compiled(tokens, redactedView(req, redact), res);
    };
    return options === undefined ? [redacting] : [redacting, options];
  }

  // ---- listen and the startup line ---------------------------------------------------------------

  onListen(server, args) {
    if (this.app === undefined || !(server instanceof http.Server) || this.servers.has(server)) return undefined;
    if (!server.listeners('request').includes(this.app)) return undefined;
    this.servers.add(server);
    let callArgs = args;
    if (this.config.bindHost !== undefined) {
      const rewritten = listenArgsWithHost(args, this.config.bindHost);
      if (rewritten.forced) {
        callArgs = rewritten.args;
        this.bound = this.config.bindHost;
      }
    }
    server.once('listening', () => {
      const address = server.address();
      this.listening = typeof address === 'string' ? address : `${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
      if (this.complete()) this.announce();
      else setTimeout(() => this.announce(), this.config.expectWithinMs).unref();
    });
    return callArgs;
  }

  complete() {
    return !this.active || (this.seen.jsonParser && this.seen.errorhandlerMounted);
  }

  maybeAnnounce() {
    if (this.listening !== undefined && this.complete()) this.announce();
  }

  announce() {
    if (this.announced) return;
    this.announced = true;
    const seconds = `${Math.round(this.config.expectWithinMs / 100) / 10} s`;
    if (this.active && !this.seen.jsonParser) {
      this.refuse(
        'jsonParser',
        `no middleware named 'jsonParser' was mounted within ${seconds} of listen: ` +
          (this.stack !== undefined ? 'the login and basket audits read the body only when the request finishes' : 'express-winston was not mounted') +
          ' (is this the Juice Shop build the preload knows?)',
      );
    }
    if (this.active && !this.seen.errorhandlerMounted) {
      this.refuse(
        'errorhandler',
        `errorhandler() was ${this.seen.errorhandlerMade ? 'made but not mounted' : 'never mounted'} within ${seconds} of listen: ` +
          'errors are answered without the error audit (stack traces may reach users)',
      );
    }
    this.output.out(this.statusLine());
  }

  statusLine() {
    const { config } = this;
    const where = `listening on ${this.listening ?? '?'}${this.bound !== undefined ? ` (bound to ${this.bound} by A09_BIND_HOST)` : ''}`;
    const others = this.otherApps > 0 ? `; ${this.otherApps} more express app(s) left alone` : '';
    if (config.mode === 'off') return `${PREFIX} (off): nothing mounted; ${where}${others}`;
    if (!this.active) return `${PREFIX} (${config.mode}): NOT ACTIVE, the shop runs unprotected (see the REFUSED lines); ${where}`;
    const mark = (ok, text) => (ok ? text : `${text} NOT SEEN`);
    if (this.stack !== undefined) {
      const events = config.collector !== undefined ? `${config.collector.url} (spool ${config.spoolDir})` : `file ${config.eventsFile}`;
      return (
        `${PREFIX} (fixed): hooked express() [request context, helmet, audits, log guard first; app.param(id, coupon)], ` +
        `${mark(this.seen.jsonParser, 'jsonParser [body snapshot after it]')}, ` +
        `${mark(this.seen.errorhandlerMounted, 'errorhandler [error audit, generic replies]')}, ` +
        `${this.seen.morgan ? 'morgan [access.log URLs redacted]' : 'morgan not used'}; ` +
        `JWT key ${this.jwt}; events -> ${events}; HMAC key ${config.hmacSource.split(' (')[0]}; ${where}${others}`
      );
    }
    const syslog = config.collector !== undefined ? `winston-syslog -> ${config.collector.url} (RFC 3164)` : 'no syslog (A09_COLLECTOR unset)';
    return (
      `${PREFIX} (naive): hooked express(), ${mark(this.seen.jsonParser, 'jsonParser [express-winston after it]')}, ` +
      `${mark(this.seen.errorhandlerMounted, 'errorhandler [express-winston errorLogger before it]')}; ` +
      `${syslog}, file ${path.join(config.logDir, 'app.log')}; ${where}${others}`
    );
  }
}

/** The file of the code that called `express()`: the first stack frame outside this folder and Node itself. */
function callerFile() {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 20;
    Error.prepareStackTrace = (_error, frames) => frames;
    const frames = new Error().stack;
    if (!Array.isArray(frames)) return undefined;
    for (const frame of frames) {
      const file = frame.getFileName();
      if (typeof file === 'string' && !file.startsWith('node:') && !file.startsWith(__dirname + path.sep) && path.isAbsolute(file)) return file;
    }
    return undefined;
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
}

/** A view of the request for morgan's tokens: the URL and referrer redacted, everything else as it is. */
function redactedView(req, redact) {
  const view = Object.create(req);
  const url = req.originalUrl || req.url;
  Object.defineProperty(view, 'originalUrl', { value: typeof url === 'string' ? redact(url) : url, enumerable: true });
  Object.defineProperty(view, 'url', { value: typeof req.url === 'string' ? redact(req.url) : req.url, enumerable: true });
  const headers = { ...req.headers };
  for (const name of ['referer', 'referrer']) {
    if (typeof headers[name] === 'string') headers[name] = redact(headers[name]);
  }
  Object.defineProperty(view, 'headers', { value: headers, enumerable: true });
  return view;
}

const defaultOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/**
 * Reads the settings and installs the hooks. With bad settings nothing is hooked (one REFUSED line each)
 * except, when A09_BIND_HOST is set, the loopback binding.
 */
function startPreload(env = process.env, output = defaultOutput) {
  const config = readConfig(env);
  if (config.problems.length > 0) {
    for (const problem of config.problems) output.err(`${PREFIX}: REFUSED configuration: ${problem}`);
    output.err(`${PREFIX}: nothing is mounted; the shop runs without a09${config.bindHost !== undefined ? ` (still bound to ${config.bindHost})` : ''}`);
    config.mode = 'off';
  }
  const preload = new Preload(config, output);
  preload.install();
  return preload;
}

module.exports = { startPreload, Preload, redactedView, PREFIX };
