import fc from 'fast-check';
import type { CollectedRecord } from '../../src/collector/record';
import { createDetector, defaultDetectionConfig } from '../../src/detect';
import type { AuditEvent } from '../../src/events';
import { hasUnsafeChars } from '../../src/sanitize';
import { ManualClock, Traffic } from './traffic';

/** An event that passed the collector's completeness check but carries the wrong types inside. */
function malformed(base: CollectedRecord, who: unknown, where: unknown): CollectedRecord {
  const event = { ...(base.event as AuditEvent), who, where } as unknown as AuditEvent;
  return { ...base, event };
}

describe('hostile or malformed records never break detection', () => {
  it('wrong types inside who/where are ignored safely, and the next record is still detected', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const probe = traffic.request('203.0.113.1', 'GET', '/.env', 404);
    const shapes: Array<[unknown, unknown]> = [
      [{ ip: 12345, userAgent: { tool: 'sqlmap' } }, { url: { path: '/.env' }, status: '404', method: 'GET', requestId: 'x' }],
      [{ ip: ['203.0.113.1'] }, { url: 42, status: 404 }],
      [{ ip: null, emailId: {} }, { route: ['/rest/basket/:id'], url: null, status: null }],
    ];
    for (const [who, where] of shapes) {
      expect(() => detector.onRecord(malformed(probe, who, where))).not.toThrow();
    }
    expect(() => detector.onRecord(malformed(traffic.loginFail('203.0.113.2', 'jim@juice-sh.op'), { ip: 7, emailId: 9 }, {}))).not.toThrow();
    expect(detector.onRecord(traffic.request('203.0.113.3', 'GET', '/.git/config', 404)).map((alert) => alert.ruleId)).toEqual(['web_probe_path']);
    expect(detector.stats()).toMatchObject({ records: 5, ruleErrors: 0 });
    expect(detector.openAlerts().map((alert) => alert.key.value)).toEqual(['ip:203.0.113.3']);
  });

  it('a rule that throws anyway is contained and counted; ingest goes on', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const exploding = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
      },
    );
    expect(detector.onRecord(malformed(traffic.request('203.0.113.1', 'GET', '/.env', 404), exploding, exploding))).toEqual([]);
    expect(detector.onRecord(traffic.request('203.0.113.1', 'GET', '/.env', 404))).toHaveLength(1);
    expect(detector.stats().ruleErrors).toBe(1);
  });

  it('any text in raw records and URLs yields alerts free of unsafe characters (property)', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    const text = fc.string({ unit: fc.oneof(fc.constantFrom('\n', '\r', '\u0000', '\u001b', '\u0085', '\u2028', '\u202e', '\\', '"', ']', '<script', '${jndi:', 'sqlmap', '/.env'), fc.string({ unit: 'binary', minLength: 1, maxLength: 1 })), maxLength: 80 });
    let checked = 0;
    fc.assert(
      fc.property(text, text, (message, url) => {
        // Past the update interval: every fold sends an update whose summary holds this record's text.
        clock.advance(5000);
        const alerts = [
          ...detector.onRecord(traffic.raw(message)),
          ...detector.onRecord(traffic.request('203.0.113.9', 'GET', `/${url}`, 404, `agent ${message}`)),
          ...detector.tick(),
        ];
        for (const alert of alerts) {
          checked++;
          expect(hasUnsafeChars(alert.summary)).toBe(false);
          expect(hasUnsafeChars(alert.title)).toBe(false);
          expect(hasUnsafeChars(JSON.stringify(alert.key))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
    expect(checked).toBeGreaterThan(300);
    expect(detector.stats().ruleErrors).toBe(0);
  });

  it('tick(nowMs) uses the time it is given, not the clock', () => {
    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
    detector.onRecord(traffic.heartbeat());
    const later = clock.ms + 600_000;
    const [alert] = detector.tick(later);
    expect(alert).toMatchObject({ ruleId: 'source_silent', firstAt: new Date(later).toISOString() });
    expect(alert.summary).toContain('for 600 s');
  });
});
