'use strict';
/**
 * Builds what gets mounted, from the settings: fixed mode's a09 stack with its event sender, or naive
 * mode's express-winston logging. Shared by the preload (register.cjs) and the explicit lines that
 * `apply` writes into server.ts (explicit.cjs). Failures are told through `refuse` and give undefined.
 */
const fs = require('node:fs');
const path = require('node:path');

function describeError(error) {
  if (error === null || typeof error !== 'object') return String(error);
  // First line only: a MODULE_NOT_FOUND message goes on with its require stack.
  const message = String(error.message).split('\n')[0];
  return error.code !== undefined && !message.includes(error.code) ? `${message} (${error.code})` : message;
}

/** One of our built modules (`dist/...`) from the package folder. */
function ownModule(packageDir, relative) {
  return require(path.join(packageDir, relative));
}

/**
 * The RS256 public key: PEM from the setting, or read from the file (Juice Shop's encryptionkeys/jwt.pub),
 * relative to the working directory when the app is created (Juice Shop reads it relative to its folder).
 */
function readJwtPublicKey(setting, refuse) {
  if (setting.pem !== undefined) return { pem: setting.pem, label: setting.from };
  const file = path.resolve(setting.file);
  try {
    const pem = fs.readFileSync(file, 'utf8');
    if (!pem.includes('-----BEGIN')) throw new Error(`${setting.from} is not a PEM public key`);
    return { pem, label: setting.from };
  } catch (error) {
    refuse(
      'JWT public key',
      `cannot read ${file}: ${describeError(error)}. Tokens are not verified: no actor on events, forged tokens ` +
        '(alg none, HS256 with the public key) are not recognised. Run from the Juice Shop folder or set A09_JWT_PUBLIC_KEY.',
    );
    return { pem: undefined, label: `MISSING (${setting.from})` };
  }
}

function auditLoggerOptions(config) {
  const options = { app: config.app, spoolDir: config.spoolDir };
  if (config.collector !== undefined) options.collector = config.collector.url;
  else options.file = config.eventsFile;
  if (config.tls !== undefined) options.tls = config.tls;
  if (config.hmacKey !== undefined) options.hmacKey = config.hmacKey;
  if (config.heartbeatMs !== undefined) options.heartbeatMs = config.heartbeatMs;
  return options;
}

/**
 * fixed mode: { kind: 'fixed', stack, emitter, redactUrl, jwt, first } where `first` is the request
 * context, helmet, the audits and the log guard in mounting order.
 * @param {{ own(relative: string): any, refuse(what: string, why: string): void, onEmitError(error: unknown): void }} io
 */
function setUpFixed(config, io) {
  let middleware;
  let redact;
  let ship;
  try {
    middleware = io.own('dist/middleware/index.js');
    redact = io.own('dist/middleware/lib/redact.js');
    ship = io.own('dist/src/ship/index.js');
    if (typeof middleware.a09 !== 'function' || typeof ship.createAuditLogger !== 'function') throw new Error('a09() or createAuditLogger() is missing');
  } catch (error) {
    io.refuse(
      'fixed mode',
      `the built a09-lab package is not usable at ${config.packageDir}: ${describeError(error)} ` +
        '(run `npm run build` there, or set A09_PACKAGE_DIR); the shop runs without a09',
    );
    return undefined;
  }
  const jwt = readJwtPublicKey(config.jwtPublicKey, io.refuse);
  let emitter;
  try {
    emitter = ship.createAuditLogger(auditLoggerOptions(config));
  } catch (error) {
    io.refuse('fixed mode', `cannot start the event sender: ${describeError(error)}; the shop runs without a09`);
    return undefined;
  }
  const stack = middleware.a09({
    emitter,
    ...(jwt.pem !== undefined && { jwtPublicKey: jwt.pem }),
    ...(config.trustedProxies.length > 0 && { trustedProxies: config.trustedProxies }),
    ...(config.sharedShapes !== undefined && { requestContext: { sharedShapes: config.sharedShapes } }),
    onEmitError: io.onEmitError,
  });
  // Request context, helmet, audits and log guard as one Express layer (each layer costs the router a few
  // microseconds per request): what a09's middleware() composes.
  const first = [stack.middleware()];
  const keys = redact.sensitiveKeySet();
  return { kind: 'fixed', stack, emitter, first, jwt: jwt.label, redactUrl: (url) => redact.redactUrl(url, keys) };
}

/** naive mode: { kind: 'naive', naive } (src/shop's express-winston + winston-syslog logging). */
function setUpNaive(config, io) {
  try {
    const { createNaiveLogging } = io.own('dist/src/shop/naive.js');
    const collector = config.collector === undefined ? undefined : { host: config.collector.host, port: config.collector.port };
    return { kind: 'naive', naive: createNaiveLogging(config.logDir, collector) };
  } catch (error) {
    io.refuse('naive mode', `the naive logging could not start: ${describeError(error)}; the shop runs as stock`);
    return undefined;
  }
}

/** naive mode's error handler: express-winston's errorLogger, then the app's own handler. Four arguments. */
function naiveErrorHandler(errorLogger, handler) {
  return function errorHandler(error, req, res, next) {
    errorLogger(error, req, res, (passed) => handler(passed === undefined ? error : passed, req, res, next));
  };
}

/** fixed mode's generic error handler around the app's own (which supplies the page title). */
function fixedErrorHandler(stack, handler, titleOf) {
  Object.defineProperty(handler, 'title', { get: titleOf, configurable: true });
  return stack.errorHandler(handler);
}

module.exports = { describeError, ownModule, readJwtPublicKey, setUpFixed, setUpNaive, naiveErrorHandler, fixedErrorHandler };
