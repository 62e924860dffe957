/**
 * A small app with Juice Shop's mount points and the behaviour of the routes the middleware audits
 * (statuses and bodies as in shared/juice-shop-v20-facts.md), for unit tests on Express 4 and 5.
 * The end-to-end tests run against the practice shop (src/shop) instead.
 */
import { createHmac } from 'node:crypto';
import type { Express, NextFunction, Request, Response } from 'express';
import errorhandler from 'errorhandler';
import jwt from 'jsonwebtoken';
import type { A09Stack } from '../../middleware';
import { md5, payloadFor, signRs256, USERS, type TestKeys } from './helpers';

type ExpressModule = typeof import('express');

interface Authenticated {
  data: { id: number; email: string; password: string };
  bid?: number;
}

/** express-jwt 0.1.3 as Juice Shop uses it: verifies with the public key and any algorithm (the confusion bug). */
function legacyVerify(token: string, keys: TestKeys): Authenticated | undefined {
  const [header] = token.split('.');
  try {
    const alg = (JSON.parse(Buffer.from(header ?? '', 'base64url').toString()) as { alg?: string }).alg;
    if (alg === 'none') return jwt.decode(token) as Authenticated;
    if (alg === 'HS256') {
      // The public key's text is the HMAC secret: that is the bug.
      const [h, p, signature] = token.split('.');
      const expected = createHmac('sha256', keys.publicKeyPem).update(`${h}.${p}`).digest('base64url');
      return expected === signature ? (jwt.decode(token) as Authenticated) : undefined;
    }
    return jwt.verify(token, keys.publicKeyPem, { algorithms: ['RS256'], ignoreExpiration: true }) as Authenticated;
  } catch {
    return undefined;
  }
}

function bearer(req: Request): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice(7) : undefined;
}

export interface MiniShopOptions {
  keys: TestKeys;
  stack?: A09Stack;
  /** Mount the stack through `a09.middleware()` (one handler) instead of the Juice Shop mount points. */
  single?: boolean;
}

export function miniShop(express: ExpressModule, options: MiniShopOptions): Express {
  const { keys, stack } = options;
  const app = express();
  if (stack !== undefined && options.single !== true) {
    for (const handler of stack.first) app.use(handler);
    if (stack.helmet !== undefined) app.use(stack.helmet);
    stack.param(app);
  } else if (stack !== undefined) {
    app.use(stack.middleware());
    stack.param(app);
  }
  app.disable('x-powered-by');
  app.use(function removeDuplicateSlashes(req: Request, _res: Response, next: NextFunction) {
    req.url = req.url.replace(/[/]+/g, '/');
    next();
  });
  app.use('/support/logs', (_req: Request, res: Response) => {
    res.json(['access.log.2026-11-27', 'audit.json']);
  });
  app.use(express.text({ type: '*/*' }));
  app.use(function jsonParser(req: Request, _res: Response, next: NextFunction) {
    (req as Request & { rawBody?: unknown }).rawBody = req.body;
    if (req.headers['content-type']?.includes('application/json')) {
      if (!req.body) req.body = {};
      if (req.body !== Object(req.body)) req.body = JSON.parse(req.body as string);
    }
    next();
  });
  if (stack !== undefined && options.single !== true) {
    for (const handler of stack.afterJsonParser) app.use(handler);
    app.use(stack.accessLog);
  }

  const authenticated = (req: Request, res: Response, next: NextFunction): void => {
    const token = bearer(req);
    const user = token === undefined ? undefined : legacyVerify(token, keys);
    if (user === undefined) {
      const error = Object.assign(new Error('No Authorization header was found'), { name: 'UnauthorizedError', status: 401 });
      next(error);
      return;
    }
    (req as Request & { user?: Authenticated }).user = user;
    next();
  };

  app.post('/rest/user/login', (req: Request, res: Response, next: NextFunction) => {
    const body = (req.body ?? {}) as { email?: unknown; password?: unknown };
    const email = typeof body.email === 'string' ? body.email : '';
    const hash = md5(typeof body.password === 'string' ? body.password : '');
    // The concatenated query's behaviour: a balanced `' OR 1=1--` returns the first user; a stray quote is an SQL error.
    const sql = `SELECT * FROM Users WHERE email = '${email}' AND password = '${hash}' AND deletedAt IS NULL`;
    let user;
    if (/'\s*or\s+1=1\s*--/i.test(email)) user = USERS[0];
    else if (/'.*--\s*$/.test(email)) user = undefined; // valid SQL: the comment swallows the password check, no row matches
    else if (email.includes("'") && !/^[a-z]+'[a-z]+@/i.test(email)) {
      next(Object.assign(new Error(`SQLITE_ERROR: unrecognized token: "${sql.slice(sql.indexOf(email))}"`), { name: 'SequelizeDatabaseError', sql }));
      return;
    } else user = USERS.find((u) => u.email === email && md5(u.password) === hash);
    if (user === undefined) {
      res.status(401).send('Invalid email or password.');
    } else if (user.totpSecret !== '') {
      res.status(401).json({ status: 'totp_token_required', data: { tmpToken: signRs256({ userId: user.id, type: 'password_valid_needs_second_factor_token' }, keys) } });
    } else {
      // Juice Shop signs before it knows the basket: the token has no bid; the response does.
      const token = signRs256(payloadFor(user, false), keys, { expiresIn: '6h' });
      res.json({ authentication: { token, bid: user.bid, umail: user.email } });
    }
  });

  app.get('/rest/user/change-password', (req: Request, res: Response, next: NextFunction) => {
    const query = req.query as Record<string, string | undefined>;
    if (!query.new || query.new === 'undefined') {
      res.status(401).send('Password cannot be empty.');
      return;
    }
    if (query.new !== query.repeat) {
      res.status(401).send('New and repeated password do not match.');
      return;
    }
    const token = bearer(req);
    const user = token === undefined ? undefined : legacyVerify(token, keys);
    if (user === undefined) {
      next(new Error('Blocked illegal activity by ' + (req.socket.remoteAddress ?? '')));
      return;
    }
    if (query.current && md5(query.current) !== user.data.password) {
      res.status(401).send('Current password is not correct.');
      return;
    }
    res.json({ user: { id: user.data.id, email: user.data.email, password: md5(query.new) } });
  });

  app.use('/rest/basket', authenticated);
  app.use('/api/BasketItems', authenticated);
  app.get('/rest/basket/:id', (req: Request, res: Response) => {
    const id = Number(req.params.id);
    const owner = USERS.find((u) => u.bid === id);
    res.json({ status: 'success', data: { id, UserId: owner?.id ?? null, coupon: null, Products: [] } });
  });
  app.post('/rest/basket/:id/checkout', (req: Request, res: Response) => {
    res.json({ orderConfirmation: `5267-${String(req.params.id)}f0a1b2c3`, totalPrice: 12.5 });
  });
  app.put('/rest/basket/:id/coupon/:coupon', (req: Request, res: Response) => {
    const coupon = String(req.params.coupon);
    if (coupon === 'VALID10') res.json({ discount: 10 });
    else if (coupon === 'FORGED90') res.json({ discount: 90 });
    else res.status(404).send('Invalid coupon.');
  });
  const addOrUpdate = (req: Request, res: Response): void => {
    const user = (req as Request & { user?: Authenticated }).user;
    const raw = String((req as Request & { rawBody?: unknown }).rawBody ?? '');
    // Juice Shop's check reads the first BasketId; the insert uses the last (JSON.parse keeps the last).
    const first = /"BasketId"\s*:\s*"?(\w+)"?/.exec(raw)?.[1];
    const body = req.body as { ProductId?: unknown; BasketId?: unknown; quantity?: unknown };
    const bid = USERS.find((u) => u.id === user?.data.id)?.bid;
    if (first !== undefined && first !== 'undefined' && String(bid) !== first) {
      res.status(401).send("{'error' : 'Invalid BasketId'}");
      return;
    }
    res.json({ status: 'success', data: { id: 9, ProductId: body.ProductId, BasketId: body.BasketId, quantity: body.quantity } });
  };
  app.post('/api/BasketItems', addOrUpdate);
  app.put('/api/BasketItems/:id', addOrUpdate);

  app.get('/rest/products/search', (_req: Request, res: Response) => {
    // Juice Shop routes answer some failures themselves, with a 500 and no Error for the handler.
    res.status(500).send('SQLITE_ERROR: near ")": syntax error');
  });
  app.get('/boom', () => {
    throw new Error('ENOENT: no such file or directory, open /srv/juice-shop/logs/foo.txt');
  });
  app.get('/ok', (_req: Request, res: Response) => {
    res.json({ ok: true });
  });

  const handler = errorhandler({ log: false });
  app.use(stack !== undefined ? stack.errorHandler(handler) : handler);
  return app;
}
