import Database from 'better-sqlite3';
import type { Alert, AlertChange, AlertChangeKind } from '../../src/detect';
import { AlertStore } from '../../src/dashboard';
import { tempDir } from './helpers';

const dir = tempDir();
afterAll(() => dir.remove());
let counter = 0;
const freshPath = (): string => dir.file(`alerts-${++counter}.db`);

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: '0b0e6c2e-5d1f-4a57-9a55-3f2a4c1d0001',
    ruleId: 'brute_force_account',
    type: 'authn_login_fail_max',
    title: 'Brute force against one account',
    severity: 2,
    level: 'CRITICAL',
    key: { kind: 'account', value: 'email:abc123', emailId: 'abc123', emailMasked: 'j**@juice-sh.op' },
    state: 'open',
    firstAt: '2026-01-15T09:00:00.000Z',
    lastAt: '2026-01-15T09:00:04.000Z',
    count: 5,
    revision: 0,
    records: [1, 2, 3, 4, 5].map((id) => ({ recordId: id, seq: id })),
    summary: '5 failed logins for account j**@juice-sh.op',
    ...overrides,
  };
}

const change = (kind: AlertChangeKind, value: Alert): AlertChange => ({ kind, alert: value });

describe('AlertStore', () => {
  it('stores an alert as it opens, updates and closes, with every change and the records behind it', () => {
    const store = new AlertStore({ path: freshPath() });
    store.record(change('alert', alert()));
    store.record(change('alert-update', alert({ revision: 1, count: 9, lastAt: '2026-01-15T09:00:09.000Z', records: [1, 2, 3, 4, 5, 9].map((id) => ({ recordId: id, seq: id })) })));
    store.record(change('alert-close', alert({ revision: 2, count: 9, state: 'closed', closedAt: '2026-01-15T09:10:00.000Z', records: [1, 2, 3, 4, 5, 9].map((id) => ({ recordId: id, seq: id })) })));
    const detail = store.get(alert().id);
    expect(detail?.alert).toMatchObject({ rowId: 1, state: 'closed', count: 9, revision: 2, closedBy: 'detector', closedAt: '2026-01-15T09:10:00.000Z', recordCount: 6 });
    expect(detail?.changes.map((c) => [c.kind, c.revision, c.count])).toEqual([
      ['alert', 0, 5],
      ['alert-update', 1, 9],
      ['alert-close', 2, 9],
    ]);
    expect(detail?.records.map((ref) => ref.recordId)).toEqual([1, 2, 3, 4, 5, 9]);
    expect(store.counts()).toMatchObject({ total: 1, open: 0, closed: 1, changes: 3, pending: 0 });
    store.close();
  });

  it('never moves an alert back to an older revision that arrives late', () => {
    const store = new AlertStore({ path: freshPath() });
    store.record(change('alert-update', alert({ revision: 3, count: 40 })));
    store.record(change('alert-update', alert({ revision: 2, count: 20 })));
    expect(store.get(alert().id)?.alert).toMatchObject({ revision: 3, count: 40 });
    store.close();
  });

  it('links at most maxRecordsPerAlert records to one alert, however long it runs', () => {
    const store = new AlertStore({ path: freshPath(), maxRecordsPerAlert: 8 });
    for (let revision = 0; revision < 10; revision++) {
      const records = [1, 2, 3].map((n) => ({ recordId: revision * 3 + n, seq: revision * 3 + n }));
      store.record(change(revision === 0 ? 'alert' : 'alert-update', alert({ revision, records })));
    }
    const detail = store.get(alert().id);
    expect(detail?.alert.recordCount).toBe(8);
    expect(detail?.records).toHaveLength(8);
    store.close();
  });

  it('filters by state, rule, key, severity, time and text, newest first, and pages with before', () => {
    const store = new AlertStore({ path: freshPath() });
    for (let i = 0; i < 12; i++) {
      const id = `0b0e6c2e-5d1f-4a57-9a55-3f2a4c1d${String(i).padStart(4, '0')}`;
      const ip = i % 2 === 0;
      store.record(
        change(
          'alert',
          alert({
            id,
            ruleId: ip ? 'web_scan_4xx' : 'brute_force_account',
            severity: ip ? 4 : 2,
            key: ip ? { kind: 'ip', value: `ip:198.51.100.${i}`, ip: `198.51.100.${i}` } : { kind: 'account', value: `email:e${i}` },
            firstAt: `2026-01-15T09:${String(i).padStart(2, '0')}:00.000Z`,
            lastAt: `2026-01-15T09:${String(i).padStart(2, '0')}:30.000Z`,
            summary: ip ? `scan from 198.51.100.${i}` : `failed logins ${i}`,
            state: i < 3 ? 'closed' : 'open',
          }),
        ),
      );
    }
    const rows = (query: Parameters<AlertStore['list']>[0]): number[] => store.list(query).map((a) => a.rowId);
    expect(rows({})).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(rows({ state: 'closed' })).toEqual([3, 2, 1]);
    expect(rows({ ruleId: 'web_scan_4xx', state: 'open' })).toEqual([11, 9, 7, 5]);
    expect(rows({ key: 'ip:198.51.100.4' })).toEqual([5]);
    expect(rows({ maxSeverity: 2 })).toEqual([12, 10, 8, 6, 4, 2]);
    expect(rows({ since: '2026-01-15T09:10:00.000Z' })).toEqual([12, 11]);
    expect(rows({ until: '2026-01-15T09:01:00.000Z' })).toEqual([1]);
    expect(rows({ text: 'SCAN FROM 198.51.100.1' })).toEqual([11]);
    expect(rows({ text: 'email:e1' })).toEqual([12, 2]);
    // LIKE wildcards in the text are literal.
    expect(rows({ text: '%' })).toEqual([]);
    const first = rows({ limit: 5 });
    const second = rows({ limit: 5, before: first[4] });
    const third = rows({ limit: 5, before: second[4] });
    expect([...first, ...second, ...third]).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    store.close();
  });

  it('closes the alerts an earlier run left open (their detector is gone), and keeps this run\'s', () => {
    const path = freshPath();
    const earlier = new AlertStore({ path, runId: 'run-1' });
    earlier.record(change('alert', alert()));
    earlier.record(change('alert', alert({ id: '0b0e6c2e-5d1f-4a57-9a55-3f2a4c1d0002', state: 'closed', closedAt: '2026-01-15T09:05:00.000Z' })));
    earlier.close();
    const later = new AlertStore({ path, runId: 'run-2' });
    expect(later.closeStale()).toBe(1);
    const detail = later.get(alert().id);
    expect(detail?.alert).toMatchObject({ state: 'closed', closedBy: 'restart', revision: 1 });
    expect(detail?.changes.map((c) => c.kind)).toEqual(['alert', 'alert-close']);
    expect(later.get('0b0e6c2e-5d1f-4a57-9a55-3f2a4c1d0002')?.alert.closedBy).toBe('detector');
    later.record(change('alert', alert({ id: '0b0e6c2e-5d1f-4a57-9a55-3f2a4c1d0003' })));
    expect(later.closeStale()).toBe(0);
    later.close();
  });

  it('commits a batch on its own and again after close, and a reader of the file sees it', async () => {
    const path = freshPath();
    const store = new AlertStore({ path, batchDelayMs: 5 });
    store.record(change('alert', alert()));
    const reader = new Database(path, { readonly: true });
    const count = (): number => reader.prepare('SELECT COUNT(*) FROM alerts').pluck().get() as number;
    const deadline = Date.now() + 5000;
    while (count() === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(count()).toBe(1);
    store.record(change('alert-update', alert({ revision: 1, count: 6 })));
    store.close();
    expect(reader.prepare('SELECT count FROM alerts').pluck().get()).toBe(6);
    reader.close();
    // Changes after close are ignored, not thrown.
    expect(() => store.record(change('alert-update', alert({ revision: 2 })))).not.toThrow();
  });
});
