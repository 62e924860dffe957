import request from 'supertest';
import type { CollectorService } from '../../src/dashboard';
import { bearer, loginFail, newSource, sendEvents, serviceErrors, startTestService, tempDir, waitFor } from './helpers';

interface StreamEvent {
  id?: string;
  event: string;
  data: unknown;
}

/** Reads a server-sent event stream through supertest into `events`, until the server ends it. */
function readStream(base: string, path: string, events: StreamEvent[], header?: [string, string]): Promise<request.Response> {
  const call = request(base).get(path);
  if (header !== undefined) call.set(...header);
  // supertest sends when the request is awaited; end() sends it now, so the test can go on meanwhile.
  call.buffer(false).parse((response, done) => {
    let text = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => {
      text += chunk;
      let end = text.indexOf('\n\n');
      while (end !== -1) {
        const block = text.slice(0, end);
        text = text.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          if (line.startsWith(':')) continue;
          const colon = line.indexOf(': ');
          if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 2);
        }
        if (fields.event !== undefined) events.push({ id: fields.id, event: fields.event, data: JSON.parse(fields.data ?? 'null') });
        end = text.indexOf('\n\n');
      }
    });
    response.on('end', () => done(null, text));
    response.on('error', (error: Error) => done(error, null));
  });
  return new Promise((resolve, reject) => call.end((error, response) => (error ? reject(error) : resolve(response))));
}

describe('the event stream', () => {
  const dir = tempDir();
  let service: CollectorService;
  let base: string;
  beforeEach(async () => {
    service = await startTestService(dir.file(`stream-${Date.now()}.db`));
    base = service.url.replace(/\/$/, '');
  });
  afterEach(async () => {
    await service.close();
  });
  afterAll(() => {
    dir.remove();
    expect(serviceErrors).toEqual([]);
  });

  it('opens with a ticket, starts with a snapshot, delivers an alert as it fires and its count as it grows', async () => {
    const ticket = await request(base).post('/api/stream-ticket').set(...bearer());
    expect(ticket.status).toBe(200);
    expect(ticket.body).toEqual({ ticket: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/), expiresInMs: 30000 });
    const events: StreamEvent[] = [];
    const reading = readStream(base, `/api/stream?ticket=${ticket.body.ticket}`, events);
    await waitFor(() => events.length > 0, 'the snapshot');
    expect(events[0]).toMatchObject({ event: 'snapshot', data: { alerts: [], sources: { sources: [] } } });

    const shop = newSource();
    const tcp = service.addresses.tcp?.port ?? 0;
    await sendEvents(tcp, Array.from({ length: 5 }, () => loginFail(shop)));
    await waitFor(() => events.some((e) => e.event === 'alert'), 'the alert on the stream');
    const opened = events.find((e) => e.event === 'alert') as StreamEvent;
    expect(opened.data).toMatchObject({ ruleId: 'brute_force_account', type: 'authn_login_fail_max', count: 5, state: 'open', revision: 0 });
    expect((opened.data as { records: unknown[] }).records).toHaveLength(5);

    await sendEvents(tcp, [loginFail(shop)]);
    await waitFor(() => events.some((e) => e.event === 'alert-update'), 'the update');
    expect(events.find((e) => e.event === 'alert-update')?.data).toMatchObject({ id: (opened.data as { id: string }).id, count: 6, revision: 1 });
    // Source health is pushed on its own timer: an earlier push may still say 5; wait for the one that says 6.
    type SourcesPush = { sources: Array<{ host: string; lastSeq: number }> };
    const lastSeqSeen = (): number | undefined => (events.filter((e) => e.event === 'sources').pop()?.data as SourcesPush | undefined)?.sources[0]?.lastSeq;
    await waitFor(() => lastSeqSeen() === 6, 'source health with the sixth event');
    expect(events.filter((e) => e.event === 'sources').pop()?.data).toMatchObject({ sources: [{ host: 'shop-1', lastSeq: 6 }] });

    // Ids count up, so a client can tell order.
    const ids = events.map((e) => Number(e.id));
    expect(ids).toEqual([...ids].sort((a, b) => a - b));

    // Closing the service ends the stream cleanly.
    await service.close();
    const response = await reading;
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('pushes source health after the commit of records it saw at intake (a push in between showed the old counts, and no later one came)', async () => {
    // Records reach the source watch at intake, ~400 ms before their commit; the health pushes come every 50 ms.
    const slow = await startTestService(dir.file(`stream-slow-${Date.now()}.db`), { store: { batchDelayMs: 400, synchronous: 'NORMAL' }, stream: { sourcesIntervalMs: 50 } });
    const slowBase = slow.url.replace(/\/$/, '');
    const events: StreamEvent[] = [];
    const ticket = await request(slowBase).post('/api/stream-ticket').set(...bearer());
    const reading = readStream(slowBase, `/api/stream?ticket=${ticket.body.ticket}`, events);
    await waitFor(() => events.length > 0, 'the snapshot');
    const shop = newSource();
    await sendEvents(slow.addresses.tcp?.port ?? 0, [loginFail(shop), loginFail(shop)]);
    type SourcesPush = { sources: Array<{ host: string; lastSeq: number; events: number }> };
    const pushes = (): SourcesPush[] => events.filter((e) => e.event === 'sources').map((e) => e.data as SourcesPush);
    await waitFor(() => pushes().some((push) => push.sources[0]?.events === 2), 'source health with both events', 5000);
    expect(pushes().pop()).toMatchObject({ sources: [{ host: 'shop-1', lastSeq: 2, events: 2 }] });
    await slow.close();
    await reading;
  });

  it('takes a ticket once only', async () => {
    const { ticket } = (await request(base).post('/api/stream-ticket').set(...bearer())).body as { ticket: string };
    const events: StreamEvent[] = [];
    const reading = readStream(base, `/api/stream?ticket=${ticket}`, events);
    await waitFor(() => events.length > 0, 'the snapshot');
    const again = await request(base).get(`/api/stream?ticket=${ticket}`);
    expect(again.status).toBe(401);
    expect((await request(base).get('/api/stream?ticket=forged-ticket-value-forged-ticket')).status).toBe(401);
    await service.close();
    await reading;
  });

  it('also opens with the bearer header (for clients that can send one), and a ticket opens nothing else', async () => {
    const events: StreamEvent[] = [];
    const reading = readStream(base, '/api/stream', events, bearer());
    await waitFor(() => events.length > 0, 'the snapshot');
    expect(events[0].event).toBe('snapshot');
    const { ticket } = (await request(base).post('/api/stream-ticket').set(...bearer())).body as { ticket: string };
    expect((await request(base).get(`/api/events?ticket=${ticket}`)).status).toBe(401);
    await service.close();
    await reading;
  });

  it('refuses clients past the limit with 503', async () => {
    await service.close();
    service = await startTestService(dir.file(`stream-limit-${Date.now()}.db`), { stream: { maxClients: 1 } });
    base = service.url.replace(/\/$/, '');
    const events: StreamEvent[] = [];
    const reading = readStream(base, '/api/stream', events, bearer());
    await waitFor(() => events.length > 0, 'the snapshot');
    const second = await request(base).get('/api/stream').set(...bearer());
    expect(second.status).toBe(503);
    await service.close();
    await reading;
  });
});
