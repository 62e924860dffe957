import express, { type NextFunction, type Request, type Response } from 'express';
import errorhandler from 'errorhandler';
import request from 'supertest';
import { a09, errorAudit, type A09Options } from '../../middleware';
import { makeKeys, md5, RecordingEmitter, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

function setup(options: Partial<A09Options> = {}) {
  const emitter = new RecordingEmitter();
  const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem, ...options });
  return { emitter, stack, app: miniShop(express, { keys, stack }) };
}

const loginQuote = (app: express.Express, accept: string) =>
  request(app).post('/rest/user/login').set('Content-Type', 'application/json').set('Accept', accept).send(JSON.stringify({ email: "'", password: 'admin123' }));

describe('error audit: generic replies (fixed mode)', () => {
  it.each([
    ['text/html', /^text\/html/, (body: string, id: string) => expect(body).toContain(`<code>${id}</code>`)],
    ['application/json', /^application\/json/, (body: string, id: string) => expect(JSON.parse(body)).toEqual({ error: { message: 'Internal Server Error', status: 500, incidentId: id } })],
    ['text/plain', /^text\/plain/, (body: string, id: string) => expect(body).toBe(`500 Internal Server Error (incident ${id})\n`)],
    ['image/png', /^text\/plain/, (body: string, id: string) => expect(body).toContain(id)],
  ])('answers Accept: %s in the negotiated type, with the incident id and no stack, SQL or hash', async (accept, type, check) => {
    const { emitter, app } = setup();
    const response = await loginQuote(app, accept).buffer(true).parse((res, done) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => done(null, text));
    });
    expect(response.status).toBe(500);
    expect(response.headers['content-type']).toMatch(type);
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    await emitter.requests(1);
    const incident = emitter.only('sys_error');
    const id = String(incident.detail.incidentId);
    const body = response.body as string;
    check(body, id);
    for (const leak of ['SQLITE', 'SELECT', 'password', md5('admin123'), 'at ', '/srv/', 'Sequelize', 'node_modules']) {
      expect(body).not.toContain(leak);
    }
  });

  it('records sys_error with incident id, error class, redacted message and stack, route and actor', async () => {
    const { emitter, app } = setup();
    await loginQuote(app, 'application/json').expect(500);
    await emitter.requests(1);
    const event = emitter.only('sys_error');
    expect(event).toMatchObject({
      outcome: 'error',
      reason: 'unhandled_error',
      where: { method: 'POST', route: '/rest/user/login', status: 500 },
      detail: { errorClass: 'SequelizeDatabaseError' },
    });
    expect(String(event.detail.incidentId)).toMatch(/^[0-9a-f-]{36}$/);
    expect(String(event.detail.message)).toContain('SQLITE_ERROR');
    // Redacted at the source (whatever the emitter does), then again by sanitizeEvent.
    const input = emitter.inputs.find((i) => i.type === 'sys_error');
    expect(String(input?.detail?.message)).toContain("password = '[REDACTED:digest]'");
    expect(String(input?.detail?.message)).not.toContain(md5('admin123'));
    expect(String(event.detail.stack)).toContain('SequelizeDatabaseError');
    expect(JSON.stringify(event)).not.toContain(md5('admin123'));
    expect(emitter.only('http_request').detail).toMatchObject({ incidentId: event.detail.incidentId, errorClass: 'SequelizeDatabaseError' });
  });

  it('keeps the status of an error that has one (express-jwt 401), with a generic body and no sys_error', async () => {
    const { emitter, app } = setup();
    const response = await request(app).get('/rest/basket/2').set('Accept', 'application/json').expect(401);
    expect(response.body.error).toMatchObject({ message: 'Unauthorized', status: 401 });
    expect(JSON.stringify(response.body)).not.toContain('No Authorization header');
    await emitter.requests(1);
    expect(emitter.ofType('sys_error')).toEqual([]);
    expect(emitter.only('http_request').detail.errorClass).toBe('UnauthorizedError');
  });

  it('hides the absolute path of an ENOENT and the remote address of "Blocked illegal activity"', async () => {
    const { emitter, app } = setup();
    const enoent = await request(app).get('/boom').set('Accept', 'text/plain').expect(500);
    const blocked = await request(app).get('/rest/user/change-password?new=a&repeat=a').set('Accept', 'text/html').expect(500);
    expect(enoent.text).not.toContain('/srv/juice-shop');
    expect(blocked.text).not.toContain('Blocked illegal activity');
    await emitter.requests(2);
    expect(emitter.ofType('sys_error').map((e) => e.detail.message)).toEqual([
      'ENOENT: no such file or directory, open /srv/juice-shop/logs/foo.txt',
      'Blocked illegal activity by 127.0.0.1',
    ]);
  });

  it('records a 5xx answered without an Error (a route doing res.status(500) itself), leaving its body alone', async () => {
    const { emitter, app } = setup();
    const response = await request(app).get("/rest/products/search?q=')").expect(500);
    expect(response.text).toBe('SQLITE_ERROR: near ")": syntax error');
    await emitter.requests(1);
    expect(emitter.only('sys_error')).toMatchObject({
      reason: 'error_status_without_error',
      where: { route: '/rest/products/search', status: 500 },
      detail: { errorClass: null },
    });
  });

  it('forwards errorhandler\'s title to the generic page', async () => {
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter });
    const factory = Object.assign((options?: never) => errorhandler(options), { title: 'Connect' });
    const wrappedFactory = stack.wrapErrorHandlerFactory(factory);
    wrappedFactory.title = 'OWASP Juice Shop';
    expect(factory.title).toBe('OWASP Juice Shop');
    const app = express();
    app.get('/x', () => {
      throw new Error('x');
    });
    app.use(wrappedFactory());
    const response = await request(app).get('/x').set('Accept', 'text/html').expect(500);
    expect(response.text).toContain('<title>OWASP Juice Shop</title>');
    wrappedFactory.title = '<script>';
    expect((await request(app).get('/x').set('Accept', 'text/html')).text).toContain('<title>&#60;script&#62;</title>');
  });

  it('returns a four-argument handler that Express treats as an error handler', () => {
    const audit = errorAudit({ emitter: new RecordingEmitter() });
    expect(audit.wrap().length).toBe(4);
    expect(audit.wrap(errorhandler()).length).toBe(4);
    expect(a09({ emitter: new RecordingEmitter(), errorAudit: false }).errorHandler().length).toBe(4);
  });

  it('destroys the socket when headers were already sent (like errorhandler), still recording', async () => {
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter });
    const app = express();
    for (const handler of stack.first) app.use(handler);
    app.get('/half', (_req: Request, res: Response, next: NextFunction) => {
      res.status(200).write('partial');
      next(new Error('late failure'));
    });
    app.use(stack.errorHandler(errorhandler({ log: false })));
    await expect(request(app).get('/half')).rejects.toThrow();
    await emitter.requests(1);
    expect(emitter.only('http_request')).toMatchObject({ outcome: 'error', reason: 'client_aborted', detail: { aborted: true } });
  });
});

describe('error audit: record only', () => {
  it('passes the error to the wrapped errorhandler unchanged when genericReplies is false', async () => {
    const { emitter, app } = setup({ errorAudit: { genericReplies: false } });
    const response = await loginQuote(app, 'application/json').expect(500);
    expect(response.body.error.stack).toContain('SequelizeDatabaseError');
    await emitter.requests(1);
    expect(emitter.only('sys_error').detail.errorClass).toBe('SequelizeDatabaseError');
  });

  it('without errorhandler, passes to Express default handling', async () => {
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter, errorAudit: { genericReplies: false } });
    const app = express();
    for (const handler of stack.first) app.use(handler);
    app.get('/x', () => {
      throw new Error('plain');
    });
    app.use(stack.errorHandler());
    await request(app).get('/x').expect(500);
    await emitter.requests(1);
    expect(emitter.only('sys_error').detail.message).toBe('plain');
  });
});
