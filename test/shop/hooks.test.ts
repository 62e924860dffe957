/**
 * The mount points fixed mode (and a preload) build on: where each hook runs and what it sees there.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ErrorRequestHandler, NextFunction, Request, Response } from 'express';
import { loadFixedHooks, mergeHooks } from '../../src/shop/hooks';
import { createShop, type FixedModeContext } from '../../src/shop';
import { loginAs, startShop, testKeys } from './helpers';

interface Seen {
  body: unknown;
  rawBody: unknown;
  params: unknown;
}

describe('hook mount points', () => {
  test('first sees no body and no params; afterJsonParser sees the parsed body and the raw text', async () => {
    const first: Seen[] = [];
    const afterJson: Seen[] = [];
    const record = (into: Seen[]) => (req: Request, _res: Response, next: NextFunction): void => {
      into.push({ body: req.body, rawBody: (req as Request & { rawBody?: unknown }).rawBody, params: { ...req.params } });
      next();
    };
    const running = await startShop({ hooks: { first: [record(first)], afterJsonParser: [record(afterJson)] } });
    try {
      await running.http.post('/rest/user/login').set('Content-Type', 'application/json').send('{"email":"a","password":"b"}').expect(401);
      expect(first).toEqual([{ body: undefined, rawBody: undefined, params: {} }]);
      expect(afterJson).toEqual([{ body: { email: 'a', password: 'b' }, rawBody: '{"email":"a","password":"b"}', params: {} }]);
    } finally {
      await running.stop();
    }
  });

  test('onApp gets the app before routes: app.param captures :id even when the request ends in the error handler', async () => {
    const ids: string[] = [];
    const running = await startShop({
      hooks: {
        onApp: (app) => app.param('id', (_req, _res, next, id: string) => {
          ids.push(id);
          next();
        }),
      },
    });
    try {
      await running.http.get('/rest/basket/5').expect(401);
      expect(ids).toContain('5');
    } finally {
      await running.stop();
    }
  });

  test('replaceAccessLog replaces morgan: nothing reaches access.log', async () => {
    const lines: string[] = [];
    const running = await startShop({
      hooks: {
        replaceAccessLog: (req, res, next) => {
          res.on('finish', () => lines.push(`${req.method} ${req.originalUrl} ${res.statusCode}`));
          next();
        },
      },
    });
    try {
      await running.http.get('/rest/user/change-password?current=a&new=b&repeat=b').expect(500);
      await running.http.get('/rest/products/search?q=x').expect(200);
      expect(lines).toContain('GET /rest/user/change-password?current=a&new=b&repeat=b 500');
      expect(fs.readFileSync(running.shop.accessLogPath(), 'utf8')).toBe('');
    } finally {
      await running.stop();
    }
  });

  test('wrapErrorHandler gets the 4-argument errorhandler and what it returns is mounted last', async () => {
    const errors: string[] = [];
    let given: ErrorRequestHandler | undefined;
    const running = await startShop({
      hooks: {
        wrapErrorHandler: (handler) => {
          given = handler;
          const recorder: ErrorRequestHandler = (error: Error, _req, _res, next) => {
            errors.push(error.message);
            next(error);
          };
          const generic: ErrorRequestHandler = (_error, _req, res, _next) => {
            res.status(500).json({ incident: 'x' });
          };
          return [recorder, generic];
        },
      },
    });
    try {
      expect(given?.length).toBe(4);
      const response = await running.http.get('/rest/user/change-password?new=x&repeat=x');
      expect(response.status).toBe(500);
      expect(response.body).toEqual({ incident: 'x' });
      expect(errors).toEqual(['Blocked illegal activity by 127.0.0.1']);
    } finally {
      await running.stop();
    }
  });

  test('helmet: true adds helmet() defaults (CSP); without it only Juice Shop\'s noSniff and frameguard', async () => {
    const plain = await startShop();
    const helmeted = await startShop({ hooks: { helmet: true } });
    try {
      const withoutHelmet = await plain.http.get('/rest/products/search?q=a');
      const withHelmet = await helmeted.http.get('/rest/products/search?q=a');
      expect(withoutHelmet.headers['content-security-policy']).toBeUndefined();
      expect(withHelmet.headers['content-security-policy']).toContain("default-src 'self'");
      await loginAs(helmeted, 'admin@juice-sh.op', 'admin123');
    } finally {
      await plain.stop();
      await helmeted.stop();
    }
  });

  test('close runs when the shop closes', async () => {
    let closed = 0;
    const running = await startShop({ hooks: { close: () => { closed += 1; } } });
    await running.stop();
    await running.shop.close();
    expect(closed).toBe(1);
  });

  test('mergeHooks: mode first, caller second; the caller wraps the responder the mode mounts last', () => {
    const order: string[] = [];
    const mark = (name: string) => (_req: Request, _res: Response, next: NextFunction): void => {
      order.push(name);
      next();
    };
    const responder: ErrorRequestHandler = (_e, _q, _r, _n) => undefined;
    const modeRecorder: ErrorRequestHandler = (_e, _q, _r, next) => next();
    const merged = mergeHooks(
      { first: [mark('mode')], wrapErrorHandler: (handler) => [modeRecorder, handler], helmet: true },
      { first: [mark('caller')], wrapErrorHandler: (handler) => handler === responder ? [handler] : [] },
    );
    expect(merged.first).toHaveLength(2);
    expect(merged.helmet).toBe(true);
    expect(merged.wrapErrorHandler?.(responder)).toEqual([modeRecorder, responder]);
  });
});

describe('fixed mode wiring', () => {
  const context: FixedModeContext = { options: { mode: 'fixed', logDir: '/tmp/x' }, publicKeyPem: 'PEM', logDir: '/tmp/x' };

  test('fixedHooks(context) from ./fixed supplies the hooks', async () => {
    const seen: FixedModeContext[] = [];
    const hooks = await loadFixedHooks(context, () => ({
      fixedHooks: (given: FixedModeContext) => {
        seen.push(given);
        return { helmet: true };
      },
    }));
    expect(hooks).toEqual({ helmet: true });
    expect(seen).toEqual([context]);
  });

  test('a missing ./fixed module or a missing export is a clear error', async () => {
    const missing = Object.assign(new Error("Cannot find module './fixed' from 'src/shop/hooks.ts'"), { code: 'MODULE_NOT_FOUND' });
    await expect(loadFixedHooks(context, () => { throw missing; })).rejects.toThrow(/src\/shop\/fixed\.ts .* does not exist yet/);
    await expect(loadFixedHooks(context, () => ({}))).rejects.toThrow(/must export fixedHooks/);
  });

  const fixedExists = ['fixed.ts', 'fixed.js'].some((name) => fs.existsSync(path.join(__dirname, '../../src/shop', name)));
  if (fixedExists) {
    test('createShop({ mode: "fixed" }) mounts fixedHooks: options.fixed reaches it, the shop still answers as Juice Shop', async () => {
      const events: unknown[] = [];
      const running = await startShop({ mode: 'fixed', fixed: { emitter: { emit: (event: unknown) => { events.push(event); return undefined; } } } });
      try {
        const response = await running.http.post('/rest/user/login').send({ email: 'admin@juice-sh.op', password: 'x' });
        expect(response.status).toBe(401);
        expect(response.text).toBe('Invalid email or password.');
        await loginAs(running, 'admin@juice-sh.op', 'admin123');
        expect(events.length).toBeGreaterThan(0);
      } finally {
        await running.stop();
      }
    });
  } else {
    test('createShop({ mode: "fixed" }) refuses clearly while src/shop/fixed.ts does not exist', async () => {
      await expect(createShop({ mode: 'fixed', logDir: fs.mkdtempSync('/tmp/a09-fixed-'), keys: testKeys() }))
        .rejects.toThrow(/src\/shop\/fixed\.ts/);
    });
  }
});
