import fs from 'node:fs';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response } from 'express';
import helmet from 'helmet';
import morgan from 'morgan';
import type { DailyAccessLog } from './access-log';
import type { NaiveLogging } from './naive';
import type { RouteContext } from './routes/context';
import { addBasketItem, quantityCheckBeforeBasketItemAddition, quantityCheckBeforeBasketItemUpdate, updateBasketItem } from './routes/basket-items';
import { applyCoupon, placeOrder, retrieveBasket } from './routes/basket';
import { serveKeyDirectory, serveKeyFiles } from './routes/key-files';
import { serveLogDirectory, serveLogFiles } from './routes/log-files';
import { login } from './routes/login';
import { countryMapping, createProductReviews, serveAngularClient } from './routes/misc';
import { searchProducts } from './routes/search';
import { changePassword, retrieveLoggedInUser } from './routes/user';
import { parseCookies } from './security';
import type { ShopHooks } from './types';

// As in Juice Shop's server.ts: required (not imported) because its `title` export is overwritten below.
// eslint-disable-next-line @typescript-eslint/no-require-imports
import errorhandler = require('errorhandler');

const expressVersion = (JSON.parse(fs.readFileSync(require.resolve('express/package.json'), 'utf8')) as { version: string }).version;
(errorhandler as unknown as { title: string }).title = `OWASP Juice Shop (Express ${expressVersion})`;

export interface ServerParts extends RouteContext {
  hooks: ShopHooks;
  accessLog: DailyAccessLog;
  naive?: NaiveLogging;
}

export interface ConfiguredServer {
  app: Express;
  /** Resolves once the database is seeded and every middleware and route is registered. */
  ready: Promise<void>;
}

/**
 * The Juice Shop server module: the only place that calls `express()` and requires `errorhandler`.
 * Like server.ts, everything but `express()` and the `first` hooks is configured after a promise
 * (there: restoring files and `sequelize.sync`; here: seeding SQLite).
 */
export function createServer(parts: ServerParts): ConfiguredServer {
  const app = express();
  for (const handler of parts.hooks.first ?? []) app.use(handler);
  parts.hooks.onApp?.(app);
  const ready = Promise.resolve().then(() => {
    parts.db.seed();
    configureApp(app, parts);
  });
  return { app, ready };
}

function configureApp(app: Express, parts: ServerParts): void {
  const { hooks, security, logDir } = parts;

  /* Security middleware, as Juice Shop ships it */
  app.use(helmet.noSniff());
  app.use(helmet.frameguard());
  app.disable('x-powered-by');
  if (hooks.helmet === true) app.use(helmet());

  /* Remove duplicate slashes from URL which allowed bypassing subsequent filters */
  app.use(function removeDuplicateSlashes(req: Request, _res: Response, next: NextFunction) {
    req.url = req.url.replace(/[/]+/g, '/');
    next();
  });

  /* /encryptionkeys directory browsing: the public key is there for anyone */
  app.use('/encryptionkeys', serveKeyDirectory());
  app.use('/encryptionkeys/:file', serveKeyFiles(security.publicKeyPem));

  /* /logs directory browsing */
  app.use('/support/logs', serveLogDirectory(logDir));
  app.use('/support/logs/:file', serveLogFiles(logDir));

  app.use(parseCookies);

  app.use(express.urlencoded({ extended: true }));
  app.use(express.text({ type: '*/*' }));
  app.use(function jsonParser(req: Request, _res: Response, next: NextFunction) {
    (req as Request & { rawBody?: unknown }).rawBody = req.body;
    if (req.headers['content-type']?.includes('application/json')) {
      if (!req.body) req.body = {};
      if (req.body !== Object(req.body)) req.body = JSON.parse(req.body as string);
    }
    next();
  });
  for (const handler of hooks.afterJsonParser ?? []) app.use(handler);

  /* HTTP request logging */
  app.use(hooks.replaceAccessLog ?? morgan('combined', { stream: parts.accessLog }));
  if (parts.naive !== undefined) app.use(parts.naive.requestLogger);

  app.enable('trust proxy');

  /* Authorization */
  app.use(security.updateAuthenticatedUsers());
  app.use('/rest/basket', security.isAuthorized(), security.appendUserId());
  app.use('/api/BasketItems', security.isAuthorized());
  app.use('/api/BasketItems/:id', security.isAuthorized());
  app.use('/rest/basket/:id', security.isAuthorized());
  app.use('/rest/basket/:id/order', security.isAuthorized());
  app.put('/api/BasketItems/:id', security.appendUserId(), quantityCheckBeforeBasketItemUpdate(parts), updateBasketItem(parts));
  app.post('/api/BasketItems', security.appendUserId(), quantityCheckBeforeBasketItemAddition(parts), addBasketItem(parts));

  /* Custom Restful API */
  app.post('/rest/user/login', login(parts));
  app.get('/rest/user/change-password', changePassword(parts));
  app.get('/rest/user/whoami', retrieveLoggedInUser(parts));
  app.get('/rest/products/search', searchProducts(parts));
  app.get('/rest/basket/:id', retrieveBasket(parts));
  app.post('/rest/basket/:id/checkout', placeOrder(parts));
  app.put('/rest/basket/:id/coupon/:coupon', applyCoupon(parts));
  app.get('/rest/country-mapping', countryMapping());
  app.put('/rest/products/:id/reviews', createProductReviews(parts));

  app.use(serveAngularClient());

  /* Error Handling */
  if (parts.naive !== undefined) app.use(parts.naive.errorLogger);
  const handler: ErrorRequestHandler = errorhandler();
  const wrapped = hooks.wrapErrorHandler?.(handler) ?? handler;
  app.use(...(Array.isArray(wrapped) ? wrapped : [wrapped]));
}
