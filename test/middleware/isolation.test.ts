import express, { type NextFunction, type Request, type Response } from 'express';
import request from 'supertest';
import { a09, getContext, type A09Options } from '../../middleware';
import type { AuditEmitter, AuditEvent, EventInput } from '../../src/events';
import { makeKeys, payloadFor, RecordingEmitter, signRs256, userByEmail, waitFor, type TestKeys } from './helpers';
import { miniShop } from './mini-shop';

let keys: TestKeys;
beforeAll(() => {
  keys = makeKeys();
});

/** One of every audited situation, each answered by the app. */
function scenario(app: express.Express): Array<() => request.Test> {
  const admin = signRs256(payloadFor(userByEmail('admin@juice-sh.op')), keys);
  const json = (path: string, body: string) =>
    request(app).post(path).set('Content-Type', 'application/json').set('Authorization', `Bearer ${admin}`).send(body);
  return [
    () => json('/rest/user/login', '{"email":"admin@juice-sh.op","password":"admin123"}'),
    () => json('/rest/user/login', '{"email":"jim@juice-sh.op","password":"nope"}'),
    () => json('/rest/user/login', '{"email":"\' OR 1=1--","password":"x"}'),
    () => json('/api/BasketItems', '{"ProductId":7,"BasketId":"1","quantity":1,"BasketId":"2"}'),
    () => json('/api/BasketItems', '{"ProductId":7,"BasketId":"2","quantity":-1}'),
    () => json('/rest/basket/2/checkout', '{}'),
    () => request(app).get('/rest/basket/2').set('Authorization', `Bearer ${admin}`),
    () => request(app).get('/rest/user/change-password?current=admin123&new=x&repeat=x').set('Authorization', `Bearer ${admin}`),
    () => request(app).put('/rest/basket/1/coupon/INVALID').set('Authorization', `Bearer ${admin}`),
    () => request(app).get("/rest/products/search?q=')"),
    () => request(app).get('/ok').set('Authorization', 'Bearer eyJhbGciOiJub25lIn0.eyJkYXRhIjp7ImlkIjoxfX0.'),
  ];
}

interface Answer {
  status: number;
  type: string | undefined;
  body: string;
}

async function answers(app: express.Express): Promise<Answer[]> {
  const out: Answer[] = [];
  for (const call of scenario(app)) {
    const response = await call();
    // Tokens carry iat and incident ids are random: compare their shape, not their bytes.
    const body = response.text.replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<jwt>').replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<uuid>');
    out.push({ status: response.status, type: response.headers['content-type'], body });
  }
  return out;
}

const recordOnly: Partial<A09Options> = { errorAudit: { genericReplies: false }, logGuard: { block: false }, helmet: false };

describe('the middleware never changes what the app answers', () => {
  it('in record-only configuration every answer equals the bare app\'s', async () => {
    const bare = await answers(miniShop(express, { keys }));
    const emitter = new RecordingEmitter();
    const audited = await answers(miniShop(express, { keys, stack: a09({ emitter, jwtPublicKey: keys.publicKeyPem, ...recordOnly }) }));
    expect(audited).toEqual(bare);
    await emitter.requests(scenario(express()).length);
    expect(emitter.events.length).toBeGreaterThan(scenario(express()).length);
  });

  it('an emitter that throws on every event changes no answer and no request fails', async () => {
    const reference = await answers(miniShop(express, { keys, stack: a09({ emitter: new RecordingEmitter(), jwtPublicKey: keys.publicKeyPem }) }));
    const reported: unknown[] = [];
    const throwing: AuditEmitter = {
      emit: () => {
        throw new Error('collector down');
      },
    };
    const app = miniShop(express, { keys, stack: a09({ emitter: throwing, jwtPublicKey: keys.publicKeyPem, onEmitError: (e) => reported.push(e) }) });
    expect(await answers(app)).toEqual(reference);
    expect(reported.length).toBeGreaterThan(0);
    expect(reported.every((e) => e instanceof Error && e.message === 'collector down')).toBe(true);
  });

  it('emits only after the response was handed over, even with a slow emitter', async () => {
    const ended: boolean[] = [];
    const responses = new Map<string, Response>();
    const slow: AuditEmitter = {
      emit(input: EventInput): AuditEvent | undefined {
        ended.push(responses.get(input.where?.requestId ?? '')?.writableEnded === true);
        const until = Date.now() + 5;
        while (Date.now() < until) {
          // a synchronous, slow emitter (a blocking transport): it must not sit in front of the response
        }
        return undefined;
      },
    };
    const stack = a09({ emitter: slow, jwtPublicKey: keys.publicKeyPem });
    const [context, ...rest] = stack.first;
    const track = (req: Request, res: Response, next: NextFunction): void => {
      const id = getContext(req)?.requestId;
      if (id !== undefined) responses.set(id, res);
      next();
    };
    const app = miniShop(express, { keys, stack: { ...stack, first: [context!, track, ...rest] } });
    await answers(app);
    await waitFor(() => ended.length >= scenario(app).length, 'the events');
    expect(ended.length).toBeGreaterThan(scenario(app).length);
    expect(ended.every(Boolean)).toBe(true);
  });

  it('a bug in one audit callback is contained: the answer and the other events stand', async () => {
    const reported: unknown[] = [];
    const emitter = new RecordingEmitter();
    const stack = a09({ emitter, jwtPublicKey: keys.publicKeyPem, onEmitError: (e) => reported.push(e) });
    // A callback that throws at 'finish' (as a bug in an audit would): the others still run.
    const poisoned = express();
    poisoned.use((req: Request, res: Response, next: NextFunction) => {
      stack.first[0]!(req, res, () => {
        getContext(req)?.onDone(() => {
          throw new Error('audit bug');
        });
        next();
      });
    });
    for (const handler of stack.first.slice(1)) poisoned.use(handler);
    poisoned.get('/x', (_req: Request, res: Response) => {
      res.send('fine');
    });
    await request(poisoned).get('/x').expect(200, 'fine');
    await emitter.requests(1);
    expect(reported.map((e) => (e as Error).message)).toEqual(['audit bug']);
  });
});
