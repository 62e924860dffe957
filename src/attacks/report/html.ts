/**
 * The HTML report: one self-contained page, no script at all (and a policy that forbids any), every
 * string escaped as text. Evidence holds attack payloads (`<script>`, forged log lines, ANSI escapes):
 * they must show as what they are and do nothing.
 */
import type { AlertEvidence, RunReport, ScenarioResult, TargetResult, VerdictStatus } from '../types';

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

// Everything a browser or a copy-paste could take for a line break, a terminal command or a text-direction
// switch; tab and newline stay (whitespace in HTML, line breaks in <pre>).
const INVISIBLE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]/g;

function visible(char: string): string {
  const code = char.charCodeAt(0);
  if (char === '\r') return '\\r';
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Text for HTML content or a quoted attribute: markup characters escaped, control characters and Unicode
 * separators shown as escapes (evidence is often already neutralised: backslashes are left as they are).
 */
export function escapeHtml(value: unknown): string {
  const text = String(value ?? '');
  const capped = text.length > 20_000 ? `${text.slice(0, 20_000)}…[+${text.length - 20_000} chars]` : text;
  return capped.replace(INVISIBLE, visible).replace(/[&<>"']/g, (char) => HTML_ESCAPES[char]!);
}

/** Multi-line text for a <pre>: each line escaped, the line breaks kept (a forged line shows as a line). */
function preText(value: string): string {
  return value.split('\n').map(escapeHtml).join('\n');
}

const CLASS: Record<VerdictStatus, string> = {
  fixed: 'v-fixed',
  'failure shown': 'v-shown',
  'NOT fixed': 'v-bad',
  'failure not shown': 'v-odd',
  error: 'v-bad',
  'not run': 'v-none',
};

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1f23;background:#fff}
h1{font-size:1.6rem}h2{font-size:1.25rem;margin-top:2.5rem;border-bottom:2px solid #d0d7de;padding-bottom:.3rem}
h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
table{border-collapse:collapse;margin:.5rem 0 1rem;width:100%}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f6f8fa;border:1px solid #d0d7de;padding:.5rem;overflow-x:auto;white-space:pre-wrap;word-break:break-all;max-height:18rem}
.v-fixed{background:#dafbe1}.v-shown{background:#fff8c5}.v-bad{background:#ffebe9;font-weight:600}.v-odd{background:#fbefff}.v-none{color:#6e7781}
.pass{color:#1a7f37}.fail{color:#cf222e}.meta{color:#57606a}dl{display:grid;grid-template-columns:10rem 1fr;gap:.2rem .8rem}dt{font-weight:600}dd{margin:0}
article.target{border:1px solid #d0d7de;border-radius:6px;padding:.2rem 1rem 1rem;margin:1rem 0}
`;

function verdictCell(result: TargetResult | undefined): string {
  if (result === undefined) return '<td></td>';
  const ms = result.evidence.timeToAlertMs;
  return `<td class="${CLASS[result.verdict.status]}">${escapeHtml(result.verdict.label)}${ms !== undefined ? ` <span class="meta">(${escapeHtml(ms)} ms)</span>` : ''}</td>`;
}

function alertRows(alerts: readonly AlertEvidence[]): string {
  if (alerts.length === 0) return '<p class="meta">No alert linked to this target\'s records.</p>';
  const rows = alerts.map(
    (alert) =>
      `<tr><td><code>${escapeHtml(alert.id)}</code></td><td>${escapeHtml(alert.type)}</td><td>${escapeHtml(alert.title)}</td><td>${escapeHtml(alert.level)} (${escapeHtml(alert.severity)})</td><td><code>${escapeHtml(alert.key)}</code></td><td>${escapeHtml(alert.count)}</td><td>${escapeHtml(alert.change === 'alert' ? 'opened' : 'updated')}</td><td>${alert.afterMs !== undefined ? `${escapeHtml(alert.afterMs)} ms` : '–'}</td></tr>`,
  );
  return `<table class="alerts"><thead><tr><th>alert id</th><th>type</th><th>title</th><th>level</th><th>key</th><th>count</th><th>change</th><th>after first request</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function targetArticle(scenarioId: string, result: TargetResult): string {
  const e = result.evidence;
  const checks = result.checks.length === 0
    ? ''
    : `<table class="checks"><thead><tr><th></th><th>the defence must</th><th>found</th></tr></thead><tbody>${result.checks
      .map((c) => `<tr><td class="${c.passed ? 'pass' : 'fail'}">${c.passed ? 'held' : 'failed'}</td><td>${escapeHtml(c.label)}</td><td>${escapeHtml(c.detail)}</td></tr>`)
      .join('')}</tbody></table>`;
  const observations = e.observations.length === 0 ? '' : `<h4>What happened</h4><ul>${e.observations.map((line) => `<li>${escapeHtml(line)}</li>`).join('')}</ul>`;
  const counts = Object.entries(e.eventCounts);
  const events = e.eventIds.length === 0
    ? '<p class="meta">No record of this target reached the collector during the scenario.</p>'
    : `<p>Collector records: ${counts.map(([type, n]) => `${escapeHtml(type)} ×${escapeHtml(n)}`).join(', ')}. Ids: <code>${escapeHtml(e.eventIds.slice(0, 60).join(', '))}${e.eventIds.length > 60 ? ' …' : ''}</code></p>`;
  const leaks = e.leaks.length === 0
    ? ''
    : `<h4>Leaked or forged strings found</h4><table class="leaks"><thead><tr><th>where</th><th>what</th><th>text</th></tr></thead><tbody>${e.leaks
      .map((leak) => `<tr><td>${escapeHtml(leak.sink)}</td><td>${escapeHtml(leak.what)}</td><td><pre>${preText(leak.excerpt)}</pre></td></tr>`)
      .join('')}</tbody></table>`;
  const samples = e.samples.map((sample) => `<h4>${escapeHtml(sample.label)}</h4><pre>${preText(sample.text)}</pre>`).join('');
  return `<article class="target" id="${escapeHtml(`${scenarioId}--${result.target}`)}">
<h3>${escapeHtml(result.target)} <span class="meta">(${escapeHtml(result.kind)})</span>: <span class="${CLASS[result.verdict.status]}">${escapeHtml(result.verdict.label)}</span></h3>
<p>${escapeHtml(e.summary)}</p>
${e.timeToAlertMs !== undefined ? `<p>Time to first alert: <strong>${escapeHtml(e.timeToAlertMs)} ms</strong> after the first attack request.</p>` : ''}
${checks}${observations}<h4>Alerts</h4>${alertRows(e.alerts)}<h4>Events</h4>${events}${leaks}${samples}
</article>`;
}

function scenarioSection(scenario: ScenarioResult): string {
  const s = scenario.scenario;
  return `<section class="scenario" id="scenario-${escapeHtml(s.id)}">
<h2>${escapeHtml(s.title)} <code>${escapeHtml(s.id)}</code></h2>
<dl><dt>A09 point</dt><dd>${escapeHtml(s.a09)}</dd><dt>CWE</dt><dd>${escapeHtml(s.cwe)}</dd><dt>Attack</dt><dd>${escapeHtml(s.attack)}</dd></dl>
${scenario.results.map((result) => targetArticle(s.id, result)).join('\n')}
</section>`;
}

export function renderHtmlReport(report: RunReport): string {
  const names = report.targets.map((target) => target.name);
  const matrix = report.scenarios
    .map((scenario) => {
      const byTarget = new Map(scenario.results.map((result) => [result.target, result]));
      return `<tr><th><a href="#scenario-${escapeHtml(scenario.scenario.id)}">${escapeHtml(scenario.scenario.id)}</a></th>${names.map((name) => verdictCell(byTarget.get(name))).join('')}</tr>`;
    })
    .join('');
  const timing = report.scenarios
    .map((scenario) => {
      const byTarget = new Map(scenario.results.map((result) => [result.target, result]));
      return `<tr><th>${escapeHtml(scenario.scenario.id)}</th>${names
        .map((name) => {
          const ms = byTarget.get(name)?.evidence.timeToAlertMs;
          return `<td>${ms === undefined ? '<span class="meta">no alert</span>' : `${escapeHtml(ms)} ms`}</td>`;
        })
        .join('')}</tr>`;
    })
    .join('');
  const targets = report.targets
    .map((t) => `<tr><td>${escapeHtml(t.name)}</td><td>${escapeHtml(t.kind)} <span class="meta">(${escapeHtml(t.kindSource)})</span></td><td><code>${escapeHtml(t.url)}</code></td><td>${escapeHtml(t.instrumentation)}</td><td>${t.seenAs !== undefined ? `<code>${escapeHtml(t.seenAs)}</code>` : '–'}</td></tr>`)
    .join('');
  const notes = report.notes.length === 0 ? '' : `<ul>${report.notes.map((note) => `<li>${escapeHtml(note)}</li>`).join('')}</ul>`;
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>a09-lab report</title><style>${STYLE}</style></head>
<body>
<h1>a09-lab report: OWASP A09 attack scenarios</h1>
<p class="meta">Run ${escapeHtml(report.startedAt)} – ${escapeHtml(report.finishedAt)}; collector <code>${escapeHtml(report.collector)}</code>.</p>
<p>Each scenario attacks every target and judges it by what reached the collector and what the attacker could see.
<strong>failure shown</strong>: a stock or naive shop shows the A09 failure the scenario teaches. <strong>fixed</strong>: the fixed shop passed every check.
<strong>NOT fixed</strong>, <strong>failure not shown</strong> and <strong>error</strong> say the expectation was not met.</p>
${notes}
<h2>Targets</h2>
<table><thead><tr><th>target</th><th>kind</th><th>URL</th><th>what reached the collector</th><th>lab seen as</th></tr></thead><tbody>${targets}</tbody></table>
<h2>Verdicts</h2>
<table class="verdicts"><thead><tr><th>scenario</th>${names.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr></thead><tbody>${matrix}</tbody></table>
<h2>Time to alert</h2>
<p>From the scenario's first attack request to the first alert linked to the target's records, as the alert stream delivered it.</p>
<table class="timing"><thead><tr><th>scenario</th>${names.map((name) => `<th>${escapeHtml(name)}</th>`).join('')}</tr></thead><tbody>${timing}</tbody></table>
${report.scenarios.map(scenarioSection).join('\n')}
</body></html>
`;
}
