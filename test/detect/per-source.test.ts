/**
 * One attacker, several targets: the lab's real tools hit the naive and the fixed shop from one address
 * (127.0.0.1). Rules keyed per source (`perSource`) open one alert per (address, reporting source), each
 * linked to its own target's records from the first one on, instead of folding one target's matches
 * into the other's alert (where they only show in a held-back update).
 */
import type { CollectedRecord } from '../../src/collector/record';
import { type Alert, type AlertChange, createDetector, DetectionConfigError, defaultDetectionConfig, type DetectionConfig, parseDetectionConfig } from '../../src/detect';
import { ManualClock, Traffic } from './traffic';

const HYDRA = 'Mozilla/5.0 (Hydra)';
const SQLMAP = 'sqlmap/1.9.2#stable (https://sqlmap.org)';

/** The fixed shop's a09 events and the naive shop's RFC 3164 lines, as the lab's collector receives them. */
function lab(clock: ManualClock): { fixed: Traffic; naiveRaw: (text: string) => CollectedRecord } {
  const fixed = new Traffic(clock, { host: 'lab-host', instance: 'fixed-instance-1' });
  // winston-syslog 2.7.1 defaults: localhost as host unless set, process.title as app; express-winston's
  // line carries the request headers (the Host header holds the shop's loopback address).
  const naiveRaw = (text: string): CollectedRecord => ({ ...fixed.raw(text), host: 'lab-host', app: 'node', peer: '127.0.0.1:41234' });
  return { fixed, naiveRaw };
}

function naiveLine(method: string, url: string, status: number, agent: string): string {
  return `info: HTTP ${method} ${url} {"meta":{"req":{"url":"${url}","headers":{"host":"127.0.0.1:3001","user-agent":"${agent}"}},"res":{"statusCode":${status}}}}`;
}

function config(settings: Partial<DetectionConfig['settings']> = {}): DetectionConfig {
  const base = defaultDetectionConfig();
  return { ...base, settings: { ...base.settings, ...settings } };
}

function opened(changes: AlertChange[], ruleId: string): Alert[] {
  return changes.filter((change) => change.kind === 'alert' && change.alert.ruleId === ruleId).map((change) => change.alert);
}

describe('per-source keys: one attacker on several targets', () => {
  it('interleaved naive raw records and fixed events from one address: one attack-tool alert per target, each linked to its own records at once', () => {
    const clock = new ManualClock();
    const { fixed, naiveRaw } = lab(clock);
    const detector = createDetector(config(), { now: clock.now });
    const changes: AlertChange[] = [];
    detector.subscribe((change) => changes.push(change));

    const naiveIds: number[] = [];
    const fixedIds: number[] = [];
    // The naive shop's line arrives first (UDP, no spool), then both interleave, 40 ms apart.
    for (let i = 0; i < 30; i++) {
      const raw = naiveRaw(naiveLine('POST', '/rest/user/login', 401, HYDRA));
      naiveIds.push(raw.id);
      detector.onRecord(raw);
      clock.advance(20);
      const event = fixed.request('127.0.0.1', 'POST', '/rest/user/login', 401, HYDRA);
      fixedIds.push(event.id);
      const changed = detector.onRecord(event);
      if (i === 0) {
        // The fixed shop's first tool request opens its own alert, on the stream now, not in an update later.
        expect(changed.map((alert) => [alert.ruleId, alert.revision])).toEqual([['web_attack_tool', 0]]);
        expect(changed[0]!.records.map((ref) => ref.recordId)).toEqual([event.id]);
      }
      clock.advance(20);
    }

    const tool = opened(changes, 'web_attack_tool');
    expect(tool).toHaveLength(2);
    const [naiveAlert, fixedAlert] = tool as [Alert, Alert];
    // Both name the attacker; each names the source that reported it.
    expect(naiveAlert.key).toMatchObject({ kind: 'ip', value: 'ip:127.0.0.1', ip: '127.0.0.1', host: 'lab-host', app: 'node' });
    expect(naiveAlert.key.instance).toBeUndefined();
    expect(fixedAlert.key).toMatchObject({ kind: 'ip', value: 'ip:127.0.0.1', ip: '127.0.0.1', host: 'lab-host', app: 'juice-shop', instance: 'fixed-instance-1' });
    expect(fixedAlert.summary).toContain('address 127.0.0.1 at juice-shop@lab-host (instance fixed-instance-1)');

    // Every record lands in its own target's alert, counted there and nowhere else.
    const open = new Map(detector.openAlerts().filter((alert) => alert.ruleId === 'web_attack_tool').map((alert) => [alert.id, alert]));
    expect(open.size).toBe(2);
    const naiveNow = open.get(naiveAlert.id)!;
    const fixedNow = open.get(fixedAlert.id)!;
    expect(naiveNow.count).toBe(30);
    expect(fixedNow.count).toBe(30);
    expect(naiveNow.records.every((ref) => naiveIds.includes(ref.recordId))).toBe(true);
    expect(fixedNow.records.every((ref) => fixedIds.includes(ref.recordId))).toBe(true);
    expect(fixedNow.records[0]!.recordId).toBe(fixedIds[0]);
  });

  it('sqlmap on both shops: attack-tool and payload-marker alerts per target', () => {
    const clock = new ManualClock();
    const { fixed, naiveRaw } = lab(clock);
    const detector = createDetector(config(), { now: clock.now });
    const changes: AlertChange[] = [];
    detector.subscribe((change) => changes.push(change));
    const url = "/rest/products/search?q=apple') UNION ALL SELECT NULL,NULL--";
    for (let i = 0; i < 5; i++) {
      detector.onRecord(naiveRaw(naiveLine('GET', url, 500, SQLMAP)));
      detector.onRecord(fixed.request('127.0.0.1', 'GET', url, 500, SQLMAP));
      clock.advance(50);
    }
    for (const ruleId of ['web_attack_tool', 'web_payload_marker']) {
      const alerts = opened(changes, ruleId);
      expect(alerts.map((alert) => [alert.key.value, alert.key.app])).toEqual([
        ['ip:127.0.0.1', 'node'],
        ['ip:127.0.0.1', 'juice-shop'],
      ]);
    }
  });

  it('suppression holds per (address, target): 10,000 tool requests on each of two targets -> two alerts of 10,000', () => {
    const clock = new ManualClock();
    const { fixed, naiveRaw } = lab(clock);
    const detector = createDetector(config({ updateIntervalMs: 5000 }), { now: clock.now });
    const changes: AlertChange[] = [];
    detector.subscribe((change) => changes.push(change));
    for (let i = 0; i < 10_000; i++) {
      detector.onRecord(naiveRaw(naiveLine('GET', `/x${i}`, 404, HYDRA)));
      detector.onRecord(fixed.request('127.0.0.1', 'GET', `/x${i}`, 404, HYDRA));
      clock.advance(5); // 50 s
    }
    clock.advance(5000);
    detector.tick();
    const tool = detector.openAlerts().filter((alert) => alert.ruleId === 'web_attack_tool');
    expect(tool.map((alert) => [alert.key.app, alert.count]).sort()).toEqual([
      ['juice-shop', 10_000],
      ['node', 10_000],
    ]);
    expect(opened(changes, 'web_attack_tool')).toHaveLength(2);
    // Updates stay rate-limited per alert: at most one per 5 s each over 55 s.
    const updates = changes.filter((change) => change.kind === 'alert-update' && change.alert.ruleId === 'web_attack_tool');
    expect(updates.length).toBeLessThanOrEqual(2 * 11);

    // A second instance of the fixed shop is a source of its own.
    const other = new Traffic(clock, { host: 'lab-host', instance: 'fixed-instance-2' });
    detector.onRecord(other.request('127.0.0.1', 'GET', '/', 200, HYDRA));
    expect(opened(changes, 'web_attack_tool')).toHaveLength(3);
  });

  it('one attacker on one target is still one alert with a count', () => {
    const clock = new ManualClock();
    const { fixed } = lab(clock);
    const detector = createDetector(config(), { now: clock.now });
    for (let i = 0; i < 10_000; i++) {
      detector.onRecord(fixed.request('127.0.0.1', 'GET', '/.env', 404, HYDRA));
      clock.advance(1);
    }
    const open = detector.openAlerts();
    expect(open.filter((alert) => alert.ruleId === 'web_attack_tool').map((alert) => alert.count)).toEqual([10_000]);
    expect(open.filter((alert) => alert.ruleId === 'web_probe_path').map((alert) => alert.count)).toEqual([10_000]);
  });

  it('perSource: false (a rules file extending the defaults) gives back one alert per address across targets', () => {
    const clock = new ManualClock();
    const { fixed, naiveRaw } = lab(clock);
    const detector = createDetector(parseDetectionConfig('extends: default\nrules:\n  - id: web_attack_tool\n    perSource: false\n'), { now: clock.now });
    detector.onRecord(naiveRaw(naiveLine('GET', '/', 200, HYDRA)));
    detector.onRecord(fixed.request('127.0.0.1', 'GET', '/', 200, HYDRA));
    const tool = detector.openAlerts().filter((alert) => alert.ruleId === 'web_attack_tool');
    expect(tool.map((alert) => [alert.key.value, alert.count])).toEqual([['ip:127.0.0.1', 2]]);
    expect(tool[0]!.key.host).toBeUndefined();
  });

  it('perSource on a threshold rule counts each target in its own window', () => {
    const clock = new ManualClock();
    const text = 'extends: default\nrules:\n  - id: web_scan_4xx\n    perSource: true\n';
    const detector = createDetector(parseDetectionConfig(text), { now: clock.now });
    const a = new Traffic(clock, { host: 'shop-a', instance: 'a-1' });
    const b = new Traffic(clock, { host: 'shop-b', instance: 'b-1' });
    // 13 404s on each target: 26 from the address in all, but no target reached 14.
    for (let i = 0; i < 13; i++) {
      detector.onRecord(a.request('198.51.100.7', 'GET', `/missing-a${i}`, 404));
      detector.onRecord(b.request('198.51.100.7', 'GET', `/missing-b${i}`, 404));
    }
    expect(detector.openAlerts().filter((alert) => alert.ruleId === 'web_scan_4xx')).toEqual([]);
    detector.onRecord(b.request('198.51.100.7', 'GET', '/missing-b13', 404));
    const scan = detector.openAlerts().filter((alert) => alert.ruleId === 'web_scan_4xx');
    expect(scan.map((alert) => [alert.key.value, alert.key.host, alert.count])).toEqual([['ip:198.51.100.7', 'shop-b', 14]]);

    // The shipped default counts the address across targets (a scan spread over replicas still adds up).
    const global = createDetector(defaultDetectionConfig(), { now: clock.now });
    for (let i = 0; i < 7; i++) {
      global.onRecord(a.request('198.51.100.8', 'GET', `/missing-a${i}`, 404));
      global.onRecord(b.request('198.51.100.8', 'GET', `/missing-b${i}`, 404));
    }
    expect(global.openAlerts().filter((alert) => alert.ruleId === 'web_scan_4xx').map((alert) => [alert.key.value, alert.count])).toEqual([['ip:198.51.100.8', 14]]);
  });
});

describe('perSource in rules files', () => {
  function problemsOf(text: string): readonly string[] {
    try {
      parseDetectionConfig(text, 'rules.yaml');
    } catch (error) {
      if (error instanceof DetectionConfigError) return error.problems;
      throw error;
    }
    return [];
  }

  it('the shipped scanner rules key per source; the counting rules and every other rule do not', () => {
    const perSource = defaultDetectionConfig().rules.filter((rule) => rule.perSource === true).map((rule) => rule.id);
    expect(perSource).toEqual(['web_probe_path', 'web_payload_marker', 'web_attack_tool']);
  });

  it('files written before the field load as they did: own rules without it key across sources, overrides keep the default', () => {
    const config = parseDetectionConfig(
      'extends: default\nrules:\n  - { id: web_attack_tool, severity: 2 }\n  - { id: admin_login, kind: immediate, severity: 4, key: ip, match: { types: [authn_login_success] } }\n',
    );
    const byId = new Map(config.rules.map((rule) => [rule.id, rule]));
    expect(byId.get('web_attack_tool')).toMatchObject({ severity: 2, perSource: true });
    expect(byId.get('admin_login')!.perSource).toBeUndefined();
    expect(parseDetectionConfig('rules:\n  - { id: a, kind: immediate, severity: 3, key: ip, perSource: true, match: { types: [http_request] } }\n').rules[0]).toMatchObject({ perSource: true });
  });

  it.each([
    ['extends: default\nrules:\n  - { id: web_attack_tool, perSource: yes please }\n', 'rule "web_attack_tool" (rules[10]): perSource must be true or false (got "yes please")'],
    ['extends: default\nrules:\n  - { id: source_silent, perSource: true }\n', 'rule "source_silent" (rules[13]): perSource does not apply to a silence rule'],
    ['extends: default\nrules:\n  - { id: sequence_gap, perSource: true }\n', 'rule "sequence_gap" (rules[14]): perSource does not apply to a gap rule'],
  ])('%#: a bad perSource is refused with the rule named', (text, expected) => {
    expect(problemsOf(text).some((problem) => problem.startsWith(expected))).toBe(true);
  });
});
