import { type Alert, type AlertChange, createDetector, defaultDetectionConfig, type DetectionConfig } from '../../src/detect';
import { ManualClock, Traffic } from './traffic';

function config(settings: Partial<DetectionConfig['settings']> = {}): DetectionConfig {
  const base = defaultDetectionConfig();
  return { ...base, settings: { ...base.settings, ...settings } };
}

describe('suppression: one attack is one alert with a count', () => {
  it('10,000 failed logins on one account -> one alert, count 10,000, updates rate-limited, closed after the quiet period', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(config({ updateIntervalMs: 5000, quietMs: 300_000 }), { now: clock.now });
    const changes: AlertChange[] = [];
    detector.subscribe((change) => changes.push(change));

    const returned: Alert[] = [];
    for (let i = 0; i < 10_000; i++) {
      returned.push(...detector.onRecord(traffic.loginFail('203.0.113.9', 'admin@juice-sh.op')));
      clock.advance(5); // 10,000 attempts in 50 s
    }
    // Opened once at the 5th attempt; the clock moved 50 s, so updates went out at most every 5 s.
    const kinds = changes.map((change) => change.kind);
    expect(kinds.filter((kind) => kind === 'alert')).toHaveLength(1);
    const updates = changes.filter((change) => change.kind === 'alert-update');
    expect(updates.length).toBeGreaterThanOrEqual(9);
    expect(updates.length).toBeLessThanOrEqual(10);
    for (let i = 1; i < updates.length; i++) {
      expect(Date.parse(updates[i].alert.lastAt) - Date.parse(updates[i - 1].alert.lastAt)).toBeGreaterThanOrEqual(5000 - 5);
    }
    expect(returned).toHaveLength(changes.length);
    const id = changes[0].alert.id;
    expect(changes.every((change) => change.alert.id === id)).toBe(true);

    // tick() sends what the rate limit held back.
    clock.advance(5000);
    const flushed = detector.tick();
    expect(flushed).toHaveLength(1);
    expect(flushed[0]).toMatchObject({ id, count: 10_000, state: 'open' });
    expect(detector.tick()).toEqual([]);

    const open = detector.openAlerts();
    expect(open).toHaveLength(1);
    // Evidence is bounded: the first 10 records and the latest 10.
    expect(open[0].records.map((ref) => ref.recordId)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, ...Array.from({ length: 10 }, (_, i) => 9991 + i)]);

    // Quiet counts from the last matching event (5 s before the flush above).
    clock.advance(294_000);
    expect(detector.tick()).toEqual([]);
    clock.advance(1000);
    const closed = detector.tick();
    expect(closed).toHaveLength(1);
    expect(closed[0]).toMatchObject({ id, state: 'closed', count: 10_000, closedAt: new Date(clock.ms).toISOString() });
    expect(changes[changes.length - 1].kind).toBe('alert-close');
    expect(detector.openAlerts()).toEqual([]);

    // The revision grows with every change sent, so a store can upsert.
    const revisions = changes.map((change) => change.alert.revision);
    expect(revisions).toEqual(revisions.map((_, i) => i));

    // The next attack on the account is a new alert.
    for (let i = 0; i < 5; i++) detector.onRecord(traffic.loginFail('203.0.113.9', 'admin@juice-sh.op'));
    const reopened = changes[changes.length - 1];
    expect(reopened.kind).toBe('alert');
    expect(reopened.alert.id).not.toBe(id);
    expect(reopened.alert.count).toBe(5);

    expect(detector.stats().alerts).toMatchObject({ opened: 2, closed: 1, open: 1 });
  });

  it('repeats of an immediate alert fold in; a different key is a different alert', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(config({ updateIntervalMs: 0 }), { now: clock.now });
    for (let i = 0; i < 3; i++) detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env', 404));
    detector.onRecord(traffic.request('203.0.113.2', 'GET', '/.git/HEAD', 404));
    const open = detector.openAlerts();
    expect(open.map((alert) => [alert.key.ip, alert.count])).toEqual([
      ['203.0.113.1', 3],
      ['203.0.113.2', 1],
    ]);
  });

  it('the on/off emitter delivers alert, alert-update and alert-close; unsubscribe works', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(config({ updateIntervalMs: 1000, quietMs: 10_000 }), { now: clock.now });
    const seen: string[] = [];
    const offAlert = detector.on('alert', (alert) => seen.push(`alert ${alert.count}`));
    detector.on('alert-update', (alert) => seen.push(`update ${alert.count}`));
    detector.on('alert-close', (alert) => seen.push(`close ${alert.count}`));
    detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env', 404));
    clock.advance(1000);
    detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env.bak', 404));
    detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env.old', 404));
    clock.advance(1000);
    detector.tick();
    offAlert();
    clock.advance(10_000);
    detector.tick();
    detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env', 404));
    expect(seen).toEqual(['alert 1', 'update 2', 'update 3', 'close 3']);
  });

  it('a throwing subscriber does not stop detection or other subscribers', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const seen: string[] = [];
    detector.on('alert', () => {
      throw new Error('subscriber bug');
    });
    detector.subscribe((change) => seen.push(change.alert.ruleId));
    expect(detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env', 404))).toHaveLength(1);
    expect(detector.onRecord(traffic.request('203.0.113.2', 'GET', '/.git/', 404))).toHaveLength(1);
    expect(seen).toEqual(['web_probe_path', 'web_probe_path']);
    expect(detector.stats().listenerErrors).toBe(2);
  });

  it('open alerts are capped: past maxOpenAlerts the quietest is closed early and counted', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(config({ maxOpenAlerts: 3 }), { now: clock.now });
    const closed: string[] = [];
    detector.on('alert-close', (alert) => closed.push(alert.key.ip ?? '?'));
    for (let i = 1; i <= 5; i++) {
      detector.onRecord(traffic.request(`203.0.113.${i}`, 'GET', '/.env', 404));
      clock.advance(1000);
    }
    expect(closed).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(detector.openAlerts().map((alert) => alert.key.ip)).toEqual(['203.0.113.3', '203.0.113.4', '203.0.113.5']);
    expect(detector.stats().alerts).toMatchObject({ open: 3, evicted: 2, closed: 2 });
  });
});
