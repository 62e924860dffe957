'use strict';
/**
 * What the lines `apply` writes into Juice Shop's server.ts call: the same middleware as the preload, but
 * mounted by explicit `app.use(...)` lines instead of hooks (for people who build Juice Shop from source).
 *
 *   const a09Lab = require('<this file>').fromEnvironment()
 *   app.use(a09Lab.first); a09Lab.param(app)                       right after `const app = express()`
 *   app.use(a09Lab.afterJsonParser)                                 right after the jsonParser middleware
 *   morgan.token('url', a09Lab.morganUrl); morgan.token('referrer', a09Lab.morganReferrer)   before morgan
 *   app.use(a09Lab.errorHandler(() => errorhandler.title))          right before app.use(errorhandler())
 *
 * Settings: the same A09_* environment variables as the preload (README.md). With bad settings or
 * A09_MODE=off every piece passes requests through unchanged, and it says so on stderr.
 */
const { readConfig } = require('./lib/config.cjs');
const { describeError, fixedErrorHandler, ownModule, setUpFixed, setUpNaive } = require('./lib/setup.cjs');

const PREFIX = 'a09 explicit';

function passThrough(_req, _res, next) {
  next();
}

function stockUrl(req) {
  return req.originalUrl || req.url;
}

function stockReferrer(req) {
  return req.headers.referer || req.headers.referrer;
}

const defaultOutput = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function inactive(reason, output) {
  output.out(`${PREFIX}: nothing mounted (${reason}); server.ts runs as stock`);
  return {
    mode: 'off',
    first: [passThrough],
    afterJsonParser: [passThrough],
    param: () => undefined,
    morganUrl: stockUrl,
    morganReferrer: stockReferrer,
    errorHandler: () => (error, _req, _res, next) => next(error),
  };
}

/** The mountable pieces for the current A09_* settings. Never throws. */
function fromEnvironment(env = process.env, output = defaultOutput) {
  let config;
  try {
    config = readConfig(env);
  } catch (error) {
    output.err(`${PREFIX}: REFUSED everything: ${describeError(error)}`);
    return inactive('the settings could not be read', output);
  }
  if (config.problems.length > 0) {
    for (const problem of config.problems) output.err(`${PREFIX}: REFUSED configuration: ${problem}`);
    return inactive('see the REFUSED lines', output);
  }
  if (config.mode === 'off') return inactive('A09_MODE=off', output);
  let emitErrors = 0;
  const io = {
    own: (relative) => ownModule(config.packageDir, relative),
    refuse: (what, why) => output.err(`${PREFIX}: REFUSED ${what}: ${why}`),
    onEmitError: (error) => {
      emitErrors += 1;
      if (emitErrors <= 5) output.err(`${PREFIX}: an audit event could not be emitted: ${describeError(error)}`);
    },
  };
  const mounted = config.mode === 'fixed' ? setUpFixed(config, io) : setUpNaive(config, io);
  if (mounted === undefined) return inactive('see the REFUSED lines', output);

  if (mounted.kind === 'naive') {
    const { naive } = mounted;
    const syslog = config.collector !== undefined ? `winston-syslog -> ${config.collector.url}` : 'no syslog';
    output.out(`${PREFIX} (naive): express-winston after jsonParser and before errorhandler; ${syslog}`);
    return {
      mode: 'naive',
      first: [passThrough],
      afterJsonParser: [naive.requestLogger],
      param: () => undefined,
      morganUrl: stockUrl,
      morganReferrer: stockReferrer,
      errorHandler: () => naive.errorLogger,
      naive,
    };
  }

  const { stack, redactUrl } = mounted;
  const events = config.collector !== undefined ? `${config.collector.url} (spool ${config.spoolDir})` : `file ${config.eventsFile}`;
  output.out(`${PREFIX} (fixed): request context, helmet, audits and log guard first, body snapshot after jsonParser, morgan URLs redacted, error audit before errorhandler; JWT key ${mounted.jwt}; events -> ${events}`);
  return {
    mode: 'fixed',
    first: mounted.first,
    afterJsonParser: stack.afterJsonParser,
    param: (app) => stack.param(app),
    morganUrl: (req) => {
      const url = stockUrl(req);
      return typeof url === 'string' ? redactUrl(url) : url;
    },
    morganReferrer: (req) => {
      const referrer = stockReferrer(req);
      return typeof referrer === 'string' ? redactUrl(referrer) : referrer;
    },
    // Mounted before errorhandler: answers generically itself; the title is the one server.ts gave errorhandler.
    errorHandler: (titleOf = () => 'Error') => fixedErrorHandler(stack, (error, _req, _res, next) => next(error), () => {
      const title = titleOf();
      return typeof title === 'string' ? title : 'Error';
    }),
    emitter: mounted.emitter,
  };
}

module.exports = { fromEnvironment };
