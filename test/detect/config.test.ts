import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  createDetector,
  DetectionConfigError,
  defaultDetectionConfig,
  loadDetectionConfig,
  parseDetectionConfig,
  validateDetectionConfig,
} from '../../src/detect';
import { ManualClock, Traffic } from './traffic';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'a09-detect-config-'));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function problemsOf(text: string): string[] {
  try {
    parseDetectionConfig(text, 'rules.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(DetectionConfigError);
    return [...(error as DetectionConfigError).problems];
  }
  throw new Error('expected the configuration to be refused');
}

describe('the shipped defaults', () => {
  it('load, validate and hold the rules of the issue', () => {
    const config = defaultDetectionConfig();
    expect(config.rules.map((rule) => rule.id)).toEqual([
      'brute_force_account',
      'password_spray_ip',
      'login_success_after_failures',
      'malicious_request',
      'authz_fail_basket',
      'account_locked_reported',
      'sensitive_read',
      'web_scan_4xx',
      'web_probe_path',
      'web_payload_marker',
      'web_attack_tool',
      'error_burst_5xx',
      'monitor_disabled_reported',
      'source_silent',
      'sequence_gap',
    ]);
    const byId = Object.fromEntries(config.rules.map((rule) => [rule.id, rule]));
    expect(byId.brute_force_account).toMatchObject({ threshold: 5, windowMs: 60000, alert: 'authn_login_fail_max', key: ['account'] });
    expect(byId.password_spray_ip).toMatchObject({ threshold: 10, windowMs: 60000, distinct: 'account', key: ['ip'] });
    expect(byId.login_success_after_failures).toMatchObject({ windowMs: 240000 });
    expect(byId.web_scan_4xx).toMatchObject({ threshold: 14, windowMs: 90000, match: { status: { min: 400, max: 499 } } });
    expect(byId.error_burst_5xx).toMatchObject({ threshold: 14, windowMs: 120000, match: { status: { min: 500, max: 599 } } });
    for (const rule of config.rules) expect(rule.references.length).toBeGreaterThan(0);
  });

  it('round-trip through YAML unchanged', () => {
    const config = defaultDetectionConfig();
    expect(parseDetectionConfig(stringify(config))).toEqual(config);
  });
});

describe('loading a rules file', () => {
  it('a YAML file extending the defaults changes only what it names', () => {
    const path = join(dir, 'rules.yaml');
    writeFileSync(
      path,
      [
        'extends: default',
        'settings:',
        '  quietMs: 60000',
        'rules:',
        '  # stricter brute force, no scanning alerts',
        '  - id: brute_force_account',
        '    threshold: 3',
        '  - id: web_scan_4xx',
        '    enabled: false',
        '  - id: admin_login',
        '    kind: immediate',
        '    title: Login to the admin account',
        '    severity: 4',
        '    key: account',
        '    match: { types: [authn_login_success], url: ["/rest/user/login"] }',
      ].join('\n'),
    );
    const config = loadDetectionConfig(path);
    expect(config.settings.quietMs).toBe(60000);
    expect(config.settings.maxKeysPerRule).toBe(defaultDetectionConfig().settings.maxKeysPerRule);
    expect(config.rules.find((rule) => rule.id === 'brute_force_account')).toMatchObject({ threshold: 3, windowMs: 60000 });
    expect(config.rules.find((rule) => rule.id === 'admin_login')).toMatchObject({ level: 'WARN', alert: 'admin_login', key: ['account'] });

    const clock = new ManualClock();
    const traffic = new Traffic(clock);
    const detector = createDetector(config, { now: clock.now });
    const seen: string[] = [];
    detector.on('alert', (alert) => seen.push(alert.ruleId));
    for (let i = 0; i < 3; i++) detector.onRecord(traffic.loginFail('192.0.2.1', 'jim@juice-sh.op'));
    for (let i = 0; i < 20; i++) detector.onRecord(traffic.request('192.0.2.2', 'GET', `/x${i}`, 404));
    detector.onRecord(traffic.loginSuccess('192.0.2.3', 'admin@juice-sh.op', '1'));
    expect(seen).toEqual(['brute_force_account', 'admin_login']);
    expect(detector.stats().rules.web_scan_4xx).toBeUndefined();
  });

  it('a JSON file works as well', () => {
    const path = join(dir, 'rules.json');
    writeFileSync(path, JSON.stringify({ version: 1, extends: 'default', rules: [{ id: 'sensitive_read', severity: 1 }] }));
    expect(loadDetectionConfig(path).rules.find((rule) => rule.id === 'sensitive_read')?.severity).toBe(1);
  });

  it('a missing file is a clear error, not a stack trace', () => {
    const path = join(dir, 'nope.yaml');
    expect(() => loadDetectionConfig(path)).toThrow(`invalid detection rules in ${path}:\n  - cannot read the file (ENOENT)`);
  });

  it('a YAML syntax error names the line', () => {
    const problems = problemsOf('rules:\n  - id: x\n    kind: [immediate\n');
    expect(problems[0]).toMatch(/^line \d+, column \d+: /);
  });
});

describe('a bad configuration is refused with the rule and field named', () => {
  const rule = (fields: string): string => `extends: default\nrules:\n  - ${fields}\n`;

  it.each([
    [rule('{ id: brute_force_account, threshold: five }'), 'rule "brute_force_account" (rules[0]): threshold must be an integer from 1 to 1000 (got "five")'],
    [rule('{ id: brute_force_account, treshold: 3 }'), 'rule "brute_force_account" (rules[0]): treshold is not a known field'],
    [rule('{ id: my_rule, kind: sometimes, severity: 3 }'), 'rule "my_rule" (rules[15]): kind must be one of immediate, threshold, distinct, sequence, silence, gap (got "sometimes")'],
    [rule('{ id: my_rule, kind: immediate, severity: 3, match: { types: [authn_login_failed] } }'), 'rule "my_rule" (rules[15]): match.types: "authn_login_failed" is not an event type of the vocabulary'],
    [rule('{ id: my_rule, kind: immediate, severity: 3, match: { types: [http_request], url: ["(unclosed"] } }'), 'rule "my_rule" (rules[15]): match.url has an invalid regular expression "(unclosed"'],
    [rule('{ id: my_rule, kind: threshold, severity: 3, match: { types: [http_request] }, threshold: 3 }'), 'rule "my_rule" (rules[15]): windowMs is missing'],
    [rule('{ id: my_rule, kind: immediate, severity: 9, match: { types: [http_request] } }'), 'rule "my_rule" (rules[15]): severity must be an integer from 0 to 7 (got 9)'],
    [rule('{ id: my_rule, kind: immediate, severity: 3, key: user, match: { types: [http_request] } }'), 'rule "my_rule" (rules[15]): key must be one of ip, account, source'],
    [rule('{ id: my_rule, kind: immediate, severity: 3, match: {} }'), 'rule "my_rule" (rules[15]): match needs types, url or userAgent'],
    [rule('{ id: my_rule, kind: threshold, severity: 3, threshold: 2, windowMs: 1000, match: { types: [http_request], raw: true, url: [x] } }'), 'rule "my_rule" (rules[15]): match.raw applies to immediate rules only'],
    [rule('{ id: my_rule, kind: immediate, severity: 3, match: { types: [http_request], status: { min: 500, max: 400 } } }'), 'rule "my_rule" (rules[15]): match.status.min (500) is above match.status.max (400)'],
    [rule('{ id: my_rule, kind: sequence, severity: 3, threshold: 2, windowMs: 1000, match: { types: [authn_login_success] } }'), 'rule "my_rule" (rules[15]): after is missing'],
    [rule('{ id: Bad Id, kind: immediate, severity: 3, match: { types: [http_request] } }'), 'rules[15]: id must be lower-case letters'],
    ['rules:\n  - { id: a, kind: immediate, severity: 3, key: ip, match: { types: [http_request] } }\n  - { id: a, kind: immediate, severity: 3, match: { types: [http_request] } }\n', 'rule "a" (rules[1]): id is used by an earlier rule'],
    ['rules:\n  - { id: a, kind: immediate, severity: 3, match: { types: [http_request] } }\n', 'rule "a" (rules[0]): key must be one of ip, account, source or a list of them (got undefined)'],
    ['rules: []\nsettings: { maxKeysPerRule: 0 }\n', 'settings: maxKeysPerRule must be an integer from 1 to 10000000 (got 0)'],
    ['extends: default\nsettings: { timeSource: wallclock }\n', 'settings: timeSource must be event or received (got "wallclock")'],
    ['extends: something\n', 'top level: extends must be "default"'],
    ['- just\n- a list\n', 'the top level must be an object with rules'],
  ])('%#: %s', (text, expected) => {
    const problems = problemsOf(text);
    expect(problems.some((problem) => problem.startsWith(expected))).toBe(true);
  });

  it('lists every problem at once, in a message fit for a person', () => {
    let error: unknown;
    try {
      validateDetectionConfig({ extends: 'default', rules: [{ id: 'brute_force_account', threshold: 0, windowMs: -1 }] }, 'my-rules.yaml');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(DetectionConfigError);
    const message = (error as Error).message;
    expect(message).toBe(
      'invalid detection rules in my-rules.yaml:\n' +
        '  - rule "brute_force_account" (rules[0]): windowMs must be an integer from 1 to 604800000 (got -1)\n' +
        '  - rule "brute_force_account" (rules[0]): threshold must be an integer from 1 to 1000 (got 0)',
    );
  });
});

describe('a file without extends', () => {
  it('holds only its own rules and keeps the shipped settings it does not give', () => {
    const config = parseDetectionConfig('rules:\n  - { id: probe, kind: immediate, severity: 4, key: ip, match: { types: [http_request], url: ["/\\\\.env"] } }\nsettings: { quietMs: 1000 }\n');
    expect(config.rules.map((rule) => rule.id)).toEqual(['probe']);
    expect(config.settings).toEqual({ ...defaultDetectionConfig().settings, quietMs: 1000 });
  });
});
