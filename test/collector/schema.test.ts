import Database from 'better-sqlite3';
import fc from 'fast-check';
import { EVENT_COLUMNS, canonicalContent, decodeContent, type ColumnValue } from '../../src/collector/chain';
import { recordFromFrame } from '../../src/collector/parse';
import type { EventRow } from '../../src/collector/rows';
import { SCHEMA_VERSION } from '../../src/collector/schema';
import { CollectorStore } from '../../src/collector/store';
import { verifyChain } from '../../src/collector/verify';
import { format5424, loginFail, newSource, tempDir } from './helpers';

const dirs: Array<{ remove: () => void }> = [];
afterAll(() => dirs.forEach((dir) => dir.remove()));

const value: fc.Arbitrary<ColumnValue> = fc.oneof(
  fc.constant(null),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  // Digits, separators and the markers themselves inside text: the lengths carry it, nothing is escaped.
  fc.string({ unit: fc.constantFrom('~', '#', ';', ':', '1', '\u0000', '\ud83d\ude00'), maxLength: 20 }),
);

describe('decodeContent', () => {
  it('property: reads back exactly the values canonicalContent wrote', () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: EVENT_COLUMNS.length, maxLength: EVENT_COLUMNS.length }), (values) => {
        expect(decodeContent(canonicalContent(values))).toEqual(values);
      }),
      { numRuns: 3000 },
    );
  });

  it('property: any other text is refused or is the content of what it reads as, never a throw', () => {
    const text = fc.oneof(
      fc.string({ unit: fc.constantFrom('~', '#', ';', ':', '0', '1', '9', '-', 'a', '\ud800'), maxLength: 80 }),
      // Real content cut or extended, and one character changed.
      fc.tuple(fc.array(value, { minLength: EVENT_COLUMNS.length, maxLength: EVENT_COLUMNS.length }), fc.nat(), fc.string({ maxLength: 2 })).map(
        ([values, at, insert]) => {
          const content = canonicalContent(values);
          const cut = at % (content.length + 1);
          return content.slice(0, cut) + insert + content.slice(cut + 1);
        },
      ),
    );
    fc.assert(
      fc.property(text, (content) => {
        const values = decodeContent(content);
        if (values !== undefined) {
          expect(values).toHaveLength(EVENT_COLUMNS.length);
          expect(canonicalContent(values)).toBe(content);
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses numbers written any other way than an integer is', () => {
    const good = canonicalContent(EVENT_COLUMNS.map((_, index) => (index === 0 ? 7 : null)));
    expect(decodeContent(good)?.[0]).toBe(7);
    for (const number of ['07', '+7', '7.0', '7e0', ' 7', '', '9007199254740993']) {
      expect(decodeContent(good.replace('#7;', `#${number};`))).toBeUndefined();
    }
  });
});

/** Version 1's events table, as collectors before version 2 made it. */
const VERSION1_EVENTS = `CREATE TABLE events (
  id INTEGER PRIMARY KEY, received_at TEXT NOT NULL, transport TEXT NOT NULL, peer TEXT NOT NULL, format TEXT NOT NULL,
  facility INTEGER, severity INTEGER, timestamp TEXT, host TEXT, app TEXT, proc_id TEXT, msg_id TEXT, sd TEXT,
  message TEXT NOT NULL, flags TEXT, event_type TEXT, event_time TEXT, source_id INTEGER, seq INTEGER, user_id TEXT,
  email_id TEXT, ip TEXT, prev_hash BLOB NOT NULL, hash BLOB NOT NULL);
CREATE INDEX events_by_type ON events (event_type) WHERE event_type IS NOT NULL;
CREATE INDEX events_by_source_seq ON events (source_id, seq) WHERE source_id IS NOT NULL;
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;`;

/** Turn a closed version 2 store into the version 1 file a collector before it would have written. */
function downgradeToVersion1(path: string): void {
  const db = new Database(path);
  const rows = db.prepare('SELECT * FROM events ORDER BY id').all() as EventRow[];
  db.exec('DROP TABLE events');
  db.exec(VERSION1_EVENTS);
  const insert = db.prepare(`INSERT INTO events (${EVENT_COLUMNS.join(', ')}, prev_hash, hash) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')}, ?, ?)`);
  for (const row of rows) insert.run(...(decodeContent(row.content) as ColumnValue[]), row.prev_hash, row.hash);
  db.prepare("UPDATE meta SET value = '1' WHERE key = 'schema_version'").run();
  db.close();
}

describe('schema version 1 -> 2', () => {
  it('migrates a version 1 file when a collector opens it: same records, same chain, and it goes on', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const path = dir.file('old.db');
    const source = newSource();
    const add = (store: CollectorStore, i: number): void => {
      const frame = i % 3 === 2 ? `<13>Oct 11 22:14:15 gw app: raw ${i} é😀` : format5424(loginFail(source));
      store.add(recordFromFrame(Buffer.from(frame), { receivedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, i)).toISOString(), transport: 'tcp', peer: '127.0.0.1:9', truncated: false }));
    };
    const first = new CollectorStore({ path, writer: 'inline' });
    for (let i = 0; i < 12; i++) add(first, i);
    await first.flush();
    const before = first.events({ order: 'asc', limit: 100 });
    await first.close();

    downgradeToVersion1(path);
    const old = new Database(path, { readonly: true });
    expect((old.prepare("SELECT name FROM pragma_table_info('events')").pluck().all() as string[]).includes('message')).toBe(true);
    old.close();
    // verify reads a version 1 file as it is (it never writes).
    expect(verifyChain(path)).toMatchObject({ ok: true, checked: 12 });

    const reopened = new CollectorStore({ path, writer: 'thread' });
    expect(reopened.events({ order: 'asc', limit: 100 })).toEqual(before);
    for (let i = 12; i < 15; i++) add(reopened, i);
    await reopened.close();
    const report = verifyChain(path);
    expect(report).toMatchObject({ ok: true, checked: 15, warnings: [] });
    const migrated = new Database(path, { readonly: true });
    expect(migrated.prepare("SELECT value FROM meta WHERE key = 'schema_version'").pluck().get()).toBe(String(SCHEMA_VERSION));
    expect(migrated.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'events_version1%'").pluck().get()).toBe(0);
    migrated.close();
    // The guards are back on the new table.
    const writer = new Database(path);
    expect(() => writer.prepare("UPDATE events SET content = 'x' WHERE id = 1").run()).toThrow(/append-only/);
    expect(() => writer.prepare('DELETE FROM events WHERE id = 1').run()).toThrow(/append-only/);
    writer.close();
  });
});
