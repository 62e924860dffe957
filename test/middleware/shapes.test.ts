/**
 * middleware/lib/shapes.ts: Express gives each request and response a hidden class of its own on V8 < 13;
 * request-context moves them to dictionary mode, where all of them share one. Checked with V8's own
 * %HaveSameMap / %HasFastProperties (natives syntax turned on for these two functions only).
 */
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import v8 from 'node:v8';
import express from 'express';
import express5 from 'express5';
import request from 'supertest';
import { a09 } from '../../middleware';
import { DETACHED_MAPS_LOSE_TRANSITIONS, toSharedShape } from '../../middleware/lib/shapes';
import { RecordingEmitter } from './helpers';

v8.setFlagsFromString('--allow-natives-syntax');
const haveSameMap = new Function('a', 'b', 'return %HaveSameMap(a, b)') as (a: object, b: object) => boolean;
const hasFastProperties = new Function('a', 'return %HasFastProperties(a)') as (a: object) => boolean;
v8.setFlagsFromString('--no-allow-natives-syntax');

const V8_MAJOR = Number(process.versions.v8.split('.')[0]);

interface Seen {
  sameReqMap: boolean;
  sameResMap: boolean;
  resFast: boolean;
  reqFast: boolean;
}

/**
 * Two requests held in the handler at once (after express.json() added its properties), compared: a map can
 * only be compared between two live objects.
 */
async function twoAtOnce(expressModule: typeof express, mount?: express.RequestHandler): Promise<Seen> {
  const app = expressModule();
  if (mount !== undefined) app.use(mount);
  app.use(expressModule.json());
  let parked: { req: express.Request; res: express.Response } | undefined;
  let seen: Seen | undefined;
  app.post('/rest/user/login', (req, res) => {
    if (parked === undefined) {
      parked = { req, res };
      return;
    }
    res.locals.checked = true;
    parked.res.locals.checked = true;
    seen = {
      sameReqMap: haveSameMap(parked.req, req),
      sameResMap: haveSameMap(parked.res, res),
      resFast: hasFastProperties(res),
      reqFast: hasFastProperties(req),
    };
    for (const { res: each } of [parked, { res }]) each.status(401).json({ error: 'Invalid email or password.' });
  });
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const post = () => request(server).post('/rest/user/login').send({ email: 'jim@juice-sh.op', password: 'x' }).expect(401);
    await Promise.all([post(), post()]);
  } finally {
    server.close();
  }
  if (seen === undefined) throw new Error('the two requests were not compared');
  return seen;
}

const APPS = 8;

/**
 * Over APPS apps, how many had their two requests (and their two responses) on one map. V8 keeps the
 * shared dictionary maps in a small cache (64 slots by prototype; full collections empty it), so an app
 * whose request and response prototypes fall in one slot, about 1 in 64, or a collection between the two
 * requests, does not share: the bound below leaves room for two such apps.
 */
async function shared(expressModule: typeof express, mount?: () => express.RequestHandler): Promise<{ req: number; res: number; dictionary: number }> {
  const counts = { req: 0, res: 0, dictionary: 0 };
  for (let app = 0; app < APPS; app++) {
    const seen = await twoAtOnce(expressModule, mount?.());
    if (seen.sameReqMap) counts.req++;
    if (seen.sameResMap) counts.res++;
    if (!seen.reqFast && !seen.resFast) counts.dictionary++;
  }
  return counts;
}

const withA09 = (requestContext: { sharedShapes?: boolean } = {}) => () => a09.middleware({ emitter: new RecordingEmitter(), requestContext });

describe.each([
  ['Express 4', express],
  ['Express 5', express5 as unknown as typeof express],
])('%s', (_name, expressModule) => {
  it(`without a09, requests share a hidden class only on V8 13 and later (this is V8 ${process.versions.v8})`, () => {
    // In a fresh process: in a test worker that already ran other suites, V8's maps for Node's request may
    // have gone to dictionary mode on their own (too many transitions), which would hide the problem.
    const expressPath = require.resolve(expressModule === express ? 'express' : 'express5');
    const script = `
      const http = require('node:http');
      const express = require(${JSON.stringify(expressPath)});
      const app = express();
      app.use(express.json());
      let parked;
      app.post('/', (req, res) => {
        if (!parked) { parked = { req, res }; return; }
        res.locals.x = 1; parked.res.locals.x = 1;
        process.stdout.write(JSON.stringify({ req: %HaveSameMap(parked.req, req), res: %HaveSameMap(parked.res, res) }));
        parked.res.end(); res.end(); server.close();
      });
      const server = app.listen(0, '127.0.0.1', () => {
        const post = () => fetch('http://127.0.0.1:' + server.address().port + '/', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' }).then((r) => r.text());
        Promise.all([post(), post()]);
      });`;
    const child = spawnSync(process.execPath, ['--allow-natives-syntax', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({ req: V8_MAJOR >= 13, res: V8_MAJOR >= 13 });
  });

  it('with a09, requests and responses share one (dictionary mode on V8 < 13, untouched after)', async () => {
    const counts = await shared(expressModule, withA09());
    expect(counts.req).toBeGreaterThanOrEqual(APPS - 2);
    expect(counts.res).toBeGreaterThanOrEqual(APPS - 2);
    if (DETACHED_MAPS_LOSE_TRANSITIONS) expect(counts.dictionary).toBe(APPS);
  });

  it('sharedShapes: false changes nothing (as without a09); true forces dictionary mode on any V8', async () => {
    const without = await shared(expressModule);
    const off = await shared(expressModule, withA09({ sharedShapes: false }));
    expect(off.dictionary).toBe(without.dictionary);
    const on = await shared(expressModule, withA09({ sharedShapes: true }));
    expect(on.dictionary).toBe(APPS);
    expect(on.res).toBeGreaterThanOrEqual(APPS - 2);
  });
});

it('is decided by the V8 version: on before 13, off from 13', () => {
  expect(DETACHED_MAPS_LOSE_TRANSITIONS).toBe(V8_MAJOR < 13);
});

describe('toSharedShape', () => {
  const B: unique symbol = Symbol('b');
  class Base {
    a = 1;
    [B] = 2;
  }
  const swapped = (): Base => {
    const object = new Base();
    Object.defineProperty(object, 'hidden', { value: 3, enumerable: false, writable: false });
    Object.setPrototypeOf(object, Object.create(Base.prototype));
    (object as Base & { c?: number }).c = 4;
    return object;
  };

  it('changes nothing a program can see: keys in order, values, descriptors, prototype', () => {
    const object = swapped();
    const prototype = Object.getPrototypeOf(object) as object;
    const before = { keys: Reflect.ownKeys(object), descriptors: Object.getOwnPropertyDescriptors(object) };
    expect(toSharedShape(object)).toBe(true);
    expect(hasFastProperties(object)).toBe(false);
    expect(Reflect.ownKeys(object)).toEqual(before.keys);
    expect(Object.getOwnPropertyDescriptors(object)).toEqual(before.descriptors);
    expect(Object.getPrototypeOf(object)).toBe(prototype);
    expect(JSON.stringify(object)).toBe('{"a":1,"c":4}');
  });

  it('leaves an object whose prototype is its constructor\'s alone (a plain Node response keeps its shared map)', () => {
    const object = new Base();
    expect(toSharedShape(object)).toBe(false);
    expect(hasFastProperties(object)).toBe(true);
    const plainNode = new http.ServerResponse(new http.IncomingMessage(null as never));
    expect(toSharedShape(plainNode)).toBe(false);
    expect(hasFastProperties(plainNode)).toBe(true);
  });

  it('leaves frozen objects, null prototypes and throwing proxies as they were, without throwing', () => {
    const frozen = Object.freeze(swapped());
    expect(toSharedShape(frozen)).toBe(false);
    expect(Object.isFrozen(frozen)).toBe(true);
    const bare = Object.create(null) as object;
    expect(toSharedShape(bare)).toBe(false);
    const hostile = new Proxy(swapped(), {
      set() {
        throw new Error('no');
      },
    });
    expect(toSharedShape(hostile)).toBe(false);
  });
});
