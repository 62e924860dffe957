import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { GENESIS_HASH } from '../../src/collector/chain';
import { recordFromFrame } from '../../src/collector/parse';
import { type EventRow } from '../../src/collector/rows';
import { EVENT_ROW_COLUMNS } from '../../src/collector/schema';
import { CollectorStore } from '../../src/collector/store';
import { verifyChain } from '../../src/collector/verify';
import { format5424, loginFail, newSource, tempDir } from './helpers';

const dirs: Array<{ remove: () => void }> = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

/** A closed store with `count` events (ids 1..count). */
async function storeWith(count: number, chainKey?: string): Promise<string> {
  const dir = tempDir();
  dirs.push(dir);
  const path = dir.file('collector.db');
  const store = new CollectorStore({ path, chainKey, writer: 'inline' });
  const source = newSource();
  for (let i = 0; i < count; i++) {
    const frame = i % 3 === 2 ? `<13>Oct 11 22:14:15 gw app: raw ${i}` : format5424(loginFail(source));
    store.add(recordFromFrame(Buffer.from(frame), { receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), transport: 'tcp', peer: '127.0.0.1:9', truncated: false }));
  }
  await store.close();
  return path;
}

/** What someone with the file does: a second connection, guard triggers dropped. */
function tamper(path: string, work: (db: Database.Database) => void): void {
  const db = new Database(path);
  db.exec('DROP TRIGGER IF EXISTS events_append_only_update; DROP TRIGGER IF EXISTS events_append_only_delete;');
  work(db);
  db.close();
}

// What an attacker with the file computes: plain SHA-256, the documented chain.
const sha = (prev: Buffer, row: EventRow): Buffer => createHash('sha256').update(prev.toString('hex')).update(row.content).digest();

describe('verifyChain', () => {
  it('passes an intact store and reports the chain head', async () => {
    const path = await storeWith(10);
    const report = verifyChain(path);
    expect(report).toMatchObject({ ok: true, checked: 10, problems: [], warnings: [], head: { lastId: 10, lastHash: expect.stringMatching(/^[0-9a-f]{64}$/) } });
    expect(report.first).toBeUndefined();
  });

  it('passes while the store is open and writing (WAL), seeing only committed rows', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = dir.file('live.db');
    const store = new CollectorStore({ path, writer: 'inline' });
    for (let i = 0; i < 5; i++) store.add(recordFromFrame(Buffer.from(`raw ${i}`), { receivedAt: '2026-01-01T00:00:00.000Z', transport: 'udp', peer: 'p', truncated: false }));
    await store.flush();
    store.add(recordFromFrame(Buffer.from('pending'), { receivedAt: '2026-01-01T00:00:00.000Z', transport: 'udp', peer: 'p', truncated: false }));
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 5 });
    await store.close();
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 6 });
  });

  it('reports an altered row (UPDATE through a second connection)', async () => {
    const path = await storeWith(10);
    // The same length: the record still reads, only the hash tells.
    tamper(path, (db) => db.prepare("UPDATE events SET content = replace(content, 'bad credentials', 'new credentials') WHERE id = 4").run());
    const report = verifyChain(path);
    expect(report.ok).toBe(false);
    expect(report.first).toMatchObject({ kind: 'altered', id: 4 });
    expect(report.problems).toHaveLength(1);
    expect(report.warnings.join(' ')).toMatch(/append-only/);
  });

  it('reports a query column edited apart from the record (the hash still matches the content)', async () => {
    const path = await storeWith(6);
    tamper(path, (db) => db.prepare("UPDATE events SET event_type = 'sys_heartbeat' WHERE id = 2").run());
    expect(verifyChain(path).first).toMatchObject({ kind: 'altered', id: 2, detail: expect.stringContaining('event_type') });
    tamper(path, (db) => db.prepare("UPDATE events SET ip = '10.9.9.9', received_at = '2020-01-01T00:00:00.000Z' WHERE id = 4").run());
    const report = verifyChain(path);
    expect(report.problems.map((problem) => problem.id)).toEqual([2, 4]);
    expect(report.problems[1].detail).toMatch(/received_at, ip/);
  });

  it('reports content edited so that it no longer reads, and queries still show the row, flagged damaged', async () => {
    const path = await storeWith(6);
    tamper(path, (db) => db.prepare("UPDATE events SET content = replace(content, 'bad credentials', 'fine') WHERE id = 4").run());
    expect(verifyChain(path).first).toMatchObject({ kind: 'altered', id: 4 });
    const store = new CollectorStore({ path, writer: 'inline' });
    const shown = store.event(4);
    expect(shown).toMatchObject({ id: 4, format: 'raw', flags: ['damaged'], message: expect.stringContaining('fine') });
    expect(store.events({ text: 'fine' }).map((record) => record.id)).toEqual([4]);
    await store.close();
  });

  it('reports a row altered and re-hashed as a broken link after it', async () => {
    const path = await storeWith(10);
    tamper(path, (db) => {
      db.prepare("UPDATE events SET content = replace(content, '127.0.0.1:9', '10.6.6.6:19') WHERE id = 5").run();
      const row = db.prepare('SELECT * FROM events WHERE id = 5').get() as EventRow;
      db.prepare('UPDATE events SET hash = ? WHERE id = 5').run(sha(row.prev_hash, row));
    });
    expect(verifyChain(path).first).toMatchObject({ kind: 'relinked', id: 6 });
  });

  it('reports a deleted row in the middle, and deleted rows at the end', async () => {
    const middle = await storeWith(10);
    tamper(middle, (db) => db.prepare('DELETE FROM events WHERE id IN (4, 5)').run());
    const report = verifyChain(middle);
    expect(report.first).toMatchObject({ kind: 'deleted', id: 4, detail: expect.stringContaining('4..5') });
    expect(report.problems).toHaveLength(1);

    const tail = await storeWith(10);
    tamper(tail, (db) => db.prepare('DELETE FROM events WHERE id >= 9').run());
    expect(verifyChain(tail).first).toMatchObject({ kind: 'deleted', id: 9 });
  });

  it('reports an inserted row, even one that copies a real row and links correctly', async () => {
    const path = await storeWith(10);
    tamper(path, (db) => {
      const last = db.prepare('SELECT * FROM events WHERE id = 10').get() as EventRow;
      const forged: EventRow = { ...last, id: 11, content: last.content.replace(/^#10;/, '#11;'), prev_hash: last.hash };
      forged.hash = sha(last.hash, forged);
      db.prepare(`INSERT INTO events (${EVENT_ROW_COLUMNS.join(', ')}) VALUES (${EVENT_ROW_COLUMNS.map((c) => `@${c}`).join(', ')})`).run(forged);
    });
    expect(verifyChain(path).first).toMatchObject({ kind: 'inserted', id: 11 });
  });

  it('reports a row inserted with an id before the first', async () => {
    const path = await storeWith(3);
    tamper(path, (db) => {
      const first = db.prepare('SELECT * FROM events WHERE id = 1').get() as EventRow;
      db.prepare('INSERT INTO events (id, received_at, format, content, prev_hash, hash) VALUES (0, ?, ?, ?, ?, ?)').run(first.received_at, 'raw', 'planted', GENESIS_HASH, GENESIS_HASH);
    });
    expect(verifyChain(path).first).toMatchObject({ kind: 'inserted', id: 0 });
  });

  it('with a chain key, catches a full rewrite of the chain and head that plain SHA-256 cannot', async () => {
    const rewrite = (db: Database.Database): void => {
      db.prepare("UPDATE events SET content = replace(content, 'bad credentials', 'new credentials') WHERE id = 2").run();
      let prev: Buffer = GENESIS_HASH;
      for (const row of db.prepare('SELECT * FROM events ORDER BY id').all() as EventRow[]) {
        const hash = sha(prev, row);
        db.prepare('UPDATE events SET prev_hash = ?, hash = ? WHERE id = ?').run(prev, hash, row.id);
        prev = hash;
      }
      db.prepare('UPDATE chain_head SET last_hash = ?').run(prev);
    };
    const keyless = await storeWith(5);
    tamper(keyless, rewrite);
    // The limit of a keyless chain: anchor health().headHash elsewhere, or use a chain key.
    expect(verifyChain(keyless).ok).toBe(true);

    const keyed = await storeWith(5, 'secret chain key');
    expect(verifyChain(keyed, { chainKey: 'secret chain key' }).ok).toBe(true);
    tamper(keyed, rewrite);
    const report = verifyChain(keyed, { chainKey: 'secret chain key' });
    expect(report.ok).toBe(false);
    expect(report.first).toMatchObject({ kind: 'altered', id: 1 });
  });
});
