import path from 'node:path';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import expressWinston from 'express-winston';
import winston from 'winston';
import type TransportStream from 'winston-transport';
import type { ShopAuditLog } from './audit-log';
import type { CollectorAddress, NaiveLoggingOptions } from './types';

interface SyslogTransportOptions {
  host?: string;
  port?: number;
  protocol?: string;
}

// winston-syslog ships no types; requiring it also registers winston.transports.Syslog, as teams use it.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Syslog } = require('winston-syslog') as { Syslog: new (options: SyslogTransportOptions) => TransportStream };

/** What the naive team wires in: a winston logger, express-winston for requests and errors, and route messages. */
export interface NaiveLogging {
  logger: winston.Logger;
  audit: ShopAuditLog;
  requestLogger: RequestHandler;
  errorLogger: ErrorRequestHandler;
  close(): Promise<void>;
}

function waitForEvent(emitter: NodeJS.EventEmitter, event: string, capMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, capMs);
    emitter.once(event, () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * The honest foil: Juice Shop's own logger style (`winston.format.simple()`, lib/logger.ts) extended with the
 * library defaults a team gets without thinking: express-winston logs request headers (Authorization
 * included) and the URL with its query string; the route messages are concatenated raw, so a newline in an
 * email is a forged line at the receiver; winston-syslog sends RFC 3164 over UDP with no acknowledgement.
 */
export function createNaiveLogging(logDir: string, collector: CollectorAddress | undefined, options: NaiveLoggingOptions = {}): NaiveLogging {
  const transports: TransportStream[] = [];
  if (options.console !== false) transports.push(new winston.transports.Console());
  const file = options.file === undefined ? path.join(logDir, 'app.log') : options.file;
  if (file !== false) transports.push(new winston.transports.File({ filename: file }));
  if (collector !== undefined) {
    transports.push(new Syslog({ host: collector.host, port: collector.port, protocol: 'udp4' }));
  }
  const logger = winston.createLogger({ format: winston.format.simple(), transports });

  const audit: ShopAuditLog = {
    loginFailed: (email) => logger.warn('Failed login for ' + email),
    loginSucceeded: (email) => logger.info('User ' + email + ' logged in'),
    secondFactorRequired: (email) => logger.info('User ' + email + ' needs a second factor'),
    passwordChanged: (email) => logger.info('Password changed for ' + email),
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      const closed = transports.map((transport) => {
        // Syslog emits 'closed' once its queue drained (it retries up to ~4 s); File emits 'closed' after flushing.
        const event = transport instanceof winston.transports.Console ? undefined : 'closed';
        return event === undefined ? Promise.resolve() : waitForEvent(transport, event, 5000);
      });
      logger.close();
      await Promise.all(closed);
    })();
    return closing;
  };

  return {
    logger,
    audit,
    requestLogger: expressWinston.logger({ winstonInstance: logger }),
    errorLogger: expressWinston.errorLogger({ winstonInstance: logger }),
    close,
  };
}
