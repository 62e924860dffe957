import type { SequenceGap } from '../../src/collector/record';
import { type AlertChange, createDetector, defaultDetectionConfig } from '../../src/detect';
import { ManualClock, Traffic } from './traffic';

const SECOND = 1000;

describe('a source silent past its heartbeat interval', () => {
  it('raises sys_monitor_disabled from tick() once, keeps it open while silent, closes it when the source resumes', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const changes: AlertChange[] = [];
    detector.subscribe((change) => changes.push(change));

    detector.onRecord(traffic.heartbeat());
    clock.advance(60 * SECOND);
    detector.onRecord(traffic.heartbeat());
    // Default: 60 s interval plus 30 s grace.
    clock.advance(90 * SECOND);
    expect(detector.tick()).toEqual([]);
    clock.advance(1);
    const raised = detector.tick();
    expect(raised).toHaveLength(1);
    expect(raised[0]).toMatchObject({
      ruleId: 'source_silent',
      type: 'sys_monitor_disabled',
      severity: 2,
      level: 'CRITICAL',
      key: { kind: 'source', host: 'shop-1', instance: traffic.source.instance, app: 'juice-shop' },
      count: 1,
      firstAt: new Date(clock.ms).toISOString(),
    });
    expect(raised[0].summary).toContain('for 90 s');

    // Silence goes on past the quiet period: still one alert, still open.
    clock.advance(3600 * SECOND);
    expect(detector.tick()).toEqual([]);
    expect(detector.openAlerts()).toHaveLength(1);

    const resumed = detector.onRecord(traffic.heartbeat());
    expect(resumed).toHaveLength(1);
    expect(resumed[0]).toMatchObject({ id: raised[0].id, state: 'closed' });
    expect(resumed[0].summary).toContain('source resumed after 3690 s');
    expect(changes.map((change) => change.kind)).toEqual(['alert', 'alert-close']);
  });

  it('a source that reports sys_monitor_disabled itself alerts at once as well', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const alerts = detector.onRecord(traffic.record({ type: 'sys_monitor_disabled', outcome: 'failure', reason: 'collector_unreachable' }));
    expect(alerts.map((alert) => alert.ruleId)).toEqual(['monitor_disabled_reported']);
  });

  it('uses the interval a heartbeat advertises, and any record counts as a sign of life', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    detector.onRecord(traffic.heartbeat(5 * SECOND));
    clock.advance(30 * SECOND);
    detector.onRecord(traffic.request('192.0.2.1', 'GET', '/', 200));
    clock.advance(35 * SECOND);
    expect(detector.tick()).toEqual([]);
    clock.advance(1);
    expect(detector.tick().map((alert) => alert.ruleId)).toEqual(['source_silent']);
  });

  it('does not watch a source that never sent a heartbeat, nor one that shut down cleanly', () => {
    const clock = new ManualClock();
    const noHeartbeat = new Traffic(clock, { host: 'logger-host' });
    const stopping = new Traffic(clock, { host: 'shop-2' });
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    detector.onRecord(noHeartbeat.request('192.0.2.1', 'GET', '/', 200));
    detector.onRecord(stopping.heartbeat());
    detector.onRecord(stopping.record({ type: 'sys_shutdown', outcome: 'info' }));
    clock.advance(3600 * SECOND);
    expect(detector.tick()).toEqual([]);
    expect(detector.stats().rules.source_silent.keys).toBe(0);
  });

  it('watches each source (host + instance) on its own', () => {
    const clock = new ManualClock();
    const a = new Traffic(clock, { host: 'shop-a' });
    const b = new Traffic(clock, { host: 'shop-b' });
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    detector.onRecord(a.heartbeat());
    detector.onRecord(b.heartbeat());
    for (let i = 0; i < 4; i++) {
      clock.advance(45 * SECOND);
      detector.onRecord(a.heartbeat());
      detector.tick();
    }
    expect(detector.openAlerts().map((alert) => alert.key.host)).toEqual(['shop-b']);
  });
});

describe('sequence gaps', () => {
  it('onGap raises an alert keyed by the source; more gaps fold into it', () => {
    const clock = new ManualClock();
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const gap = (from: number, to: number): SequenceGap => ({ host: 'shop-1', instance: 'i-1', app: 'juice-shop', from, to, detectedAt: new Date(clock.ms).toISOString() });
    const opened = detector.onGap(gap(101, 120));
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ ruleId: 'sequence_gap', type: 'sys_monitor_disabled', severity: 3, key: { kind: 'source', host: 'shop-1', instance: 'i-1' }, count: 1 });
    expect(opened[0].summary).toContain('seq 101..120 missing (20 events)');
    clock.advance(10 * SECOND);
    const updated = detector.onGap(gap(200, 200));
    expect(updated).toMatchObject([{ id: opened[0].id, count: 2 }]);
    expect(updated[0].summary).toContain('2 gaps in the sequence of source shop-1');
    expect(updated[0].summary).toContain('seq 200..200 missing (1 event)');
    expect(detector.onGap({ ...gap(5, 6), instance: 'i-2' })[0].id).not.toBe(opened[0].id);
    expect(detector.stats().gaps).toBe(3);
  });
});

describe('time', () => {
  it('a replayed spool (events an hour old, arriving now) is counted on event time across ticks', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    traffic.eventLagMs = 3_600_000;
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const opened: string[] = [];
    detector.on('alert', (alert) => opened.push(alert.ruleId));
    for (let i = 0; i < 5; i++) {
      detector.onRecord(traffic.loginFail('203.0.113.9', 'admin@juice-sh.op'));
      clock.advance(10 * SECOND);
      detector.tick();
    }
    expect(opened).toEqual(['brute_force_account']);
    expect(detector.openAlerts()[0].firstAt).toBe(new Date(clock.ms - 10 * SECOND - 3_600_000).toISOString());
  });

  it('an event time far ahead of its receipt (a wrong sender clock) counts as the receipt time', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    // Two failures stamped an hour ahead, then three at the right time: all five fall in one minute.
    traffic.eventLagMs = -3_600_000;
    for (let i = 0; i < 2; i++) detector.onRecord(traffic.loginFail('203.0.113.9', 'jim@juice-sh.op'));
    traffic.eventLagMs = 0;
    clock.advance(10 * SECOND);
    for (let i = 0; i < 3; i++) detector.onRecord(traffic.loginFail('203.0.113.9', 'jim@juice-sh.op'));
    const [alert] = detector.openAlerts();
    expect(alert).toMatchObject({ ruleId: 'brute_force_account', count: 5, lastAt: new Date(clock.ms).toISOString() });
  });
});

describe('the detector watching itself', () => {
  it('a flood of distinct keys that evicts live windows raises one capacity alert, and memory stays capped', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const base = defaultDetectionConfig();
    const detector = createDetector({ ...base, settings: { ...base.settings, maxKeysPerRule: 100 } }, { now: clock.now });
    const opened: string[] = [];
    detector.on('alert', (alert) => opened.push(alert.ruleId));
    for (let i = 0; i < 1000; i++) detector.onRecord(traffic.loginFail(`10.0.${i >> 8}.${i & 255}`, `victim${i}@example.com`));
    expect(opened).toEqual(['detector_capacity']);
    const stats = detector.stats();
    expect(stats.rules.brute_force_account).toMatchObject({ keys: 100, evictions: 900, liveEvictions: 900 });
    expect(stats.rules.password_spray_ip).toMatchObject({ keys: 100, evictions: 900 });
    expect(stats.rules.login_success_after_failures).toMatchObject({ keys: 100, evictions: 900 });
    const [alert] = detector.openAlerts();
    expect(alert.count).toBe(2700);
    expect(alert.summary).toContain('maxKeysPerRule 100');
  });

  it('tick() forgets windows that expired', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    for (let i = 0; i < 50; i++) detector.onRecord(traffic.loginFail(`10.0.0.${i}`, `someone${i}@example.com`));
    expect(detector.stats().rules.brute_force_account.keys).toBe(50);
    clock.advance(60 * SECOND);
    detector.tick();
    expect(detector.stats().rules.brute_force_account.keys).toBe(50);
    clock.advance(1);
    detector.tick();
    expect(detector.stats().rules.brute_force_account.keys).toBe(0);
    // The 240 s sequence window keeps its keys longer.
    expect(detector.stats().rules.login_success_after_failures.keys).toBe(50);
  });
});
