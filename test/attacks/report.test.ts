import fc from 'fast-check';
import { escapeHtml, renderHtmlReport, tally, verdictTable, type RunReport, type TargetResult } from '../../src/attacks';
import { cellText } from '../../src/attacks/report/table';

const PAYLOADS = [
  '<script>window.__pwned = 1</script>',
  '"><img src=x onerror="window.__pwned=1">',
  "'><svg/onload=alert(1)>",
  '</pre></td></tr></table><h1>forged</h1>',
  'line\r\nforged line\u2028also\u0085and\u001b[2J\u202eevil',
  '&lt;already-escaped&gt;',
];

const TEMPLATE_TAGS = ['!doctype', 'html', 'head', 'meta', 'title', 'style', 'body', 'h1', 'h2', 'h3', 'h4', 'p', 'ul', 'li', 'code', 'strong', 'span', 'table', 'thead', 'tbody', 'tr', 'th', 'td', 'a', 'section', 'article', 'dl', 'dt', 'dd', 'pre'];

function result(target: string, kind: TargetResult['kind'], status: TargetResult['verdict']['status'], payload: string): TargetResult {
  return {
    target,
    kind,
    verdict: { status, label: status === 'error' ? `error: ${payload}` : status, expected: status !== 'error' },
    checks: [{ id: 'c', label: `check ${payload}`, passed: false, detail: payload }],
    evidence: {
      summary: payload,
      observations: [payload],
      eventIds: [1, 2],
      eventCounts: { [payload]: 1 },
      alerts: [{ id: payload, type: payload, title: payload, ruleId: 'r', level: 'CRITICAL', severity: 2, key: payload, count: 1, change: 'alert', afterMs: 42 }],
      timeToAlertMs: 42,
      leaks: [{ sink: payload, what: payload, excerpt: payload }],
      samples: [{ label: payload, text: payload }],
    },
    durationMs: 1,
  };
}

function report(payload: string): RunReport {
  return {
    tool: 'a09-lab',
    version: 1,
    startedAt: '2026-11-27T00:00:00.000Z',
    finishedAt: '2026-11-27T00:01:00.000Z',
    collector: `http://127.0.0.1:8514/${payload}`,
    targets: [
      { name: 'stock', url: 'http://127.0.0.1:3000', kind: 'stock', kindSource: 'given', instrumentation: payload },
      { name: 'fixed', url: 'http://127.0.0.1:3002', kind: 'fixed', kindSource: 'inferred', instrumentation: payload, seenAs: payload },
    ],
    scenarios: [
      {
        scenario: { id: 'log-injection', title: payload, a09: payload, cwe: payload, attack: payload },
        results: [result('stock', 'stock', 'failure shown', payload), result('fixed', 'fixed', 'error', payload)],
      },
    ],
    notes: [payload],
  };
}

describe('HTML report', () => {
  it('renders every attacker-written string as text: no element, attribute or control character of its own', () => {
    for (const payload of PAYLOADS) {
      const html = renderHtmlReport(report(payload));
      expect(html).not.toMatch(/<script|<img|<svg|<h1>forged/i);
      // Only the report's own elements, with only its own attributes.
      const tags = new Set([...html.matchAll(/<\/?([a-z0-9!]+)/gi)].map((m) => m[1]!.toLowerCase()));
      expect([...tags].filter((tag) => !TEMPLATE_TAGS.includes(tag))).toEqual([]);
      const attributes = new Set([...html.matchAll(/<[a-z0-9]+((?:\s+[a-z-]+="[^"]*")*)\s*>/gi)].flatMap((m) => [...m[1]!.matchAll(/\s([a-z-]+)="/gi)].map((a) => a[1]!)));
      expect([...attributes].sort()).toEqual(['charset', 'class', 'content', 'href', 'http-equiv', 'id', 'lang', 'name']);
      expect(html).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
      expect(html).toContain("default-src 'none'");
    }
    const html = renderHtmlReport(report(PAYLOADS[0]!));
    expect(html).toContain('&lt;script&gt;window.__pwned = 1&lt;/script&gt;');
    // Already-escaped text is escaped again: it shows as written, not as markup.
    expect(renderHtmlReport(report('&lt;b&gt;'))).toContain('&amp;lt;b&amp;gt;');
  });

  it('keeps the line structure of multi-line evidence and shows the separators it hides', () => {
    const html = renderHtmlReport(report('first\r\nsecond\u2028third\u001b[1A'));
    expect(html).toContain('first\\r\nsecond\\u2028third\\x1b[1A');
  });

  it('escapes any string into inert text (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        const escaped = escapeHtml(text);
        return !/[<>"']|[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(escaped) && !/&(?!(amp|lt|gt|quot|#39);)/.test(escaped);
      }),
      { numRuns: 500 },
    );
  });

  it('links every scenario from the verdict table to its section', () => {
    const html = renderHtmlReport(report('x'));
    expect(html).toContain('<a href="#scenario-log-injection">log-injection</a>');
    expect(html).toContain('<section class="scenario" id="scenario-log-injection">');
    expect(html).toContain('id="log-injection--fixed"');
  });
});

describe('verdict table', () => {
  it('puts scenarios against targets, with the time to alert, coloured only when asked', () => {
    const plain = verdictTable(report('x'), false);
    const lines = plain.split('\n');
    expect(lines[0]).toMatch(/^scenario\s+stock\s+fixed \(fixed\?\)$/);
    expect(lines[2]).toMatch(/^log-injection\s+failure shown \(42 ms\)\s+error: x$/);
    expect(plain).not.toContain('\u001b');
    expect(verdictTable(report('x'), true)).toContain('\u001b[33mfailure shown (42 ms)');
  });

  it('never prints a control character from an error message', () => {
    const cell = cellText(result('fixed', 'fixed', 'error', 'boom\u001b[2J\nforged'));
    expect(cell).not.toMatch(/[\u0000-\u001f]/);
  });

  it('counts fixed targets that failed apart from other surprises', () => {
    const counts = tally(report('x'));
    expect(counts).toMatchObject({ total: 2, expected: 1, fixedFailures: [{ scenario: 'log-injection', target: 'fixed', label: 'error: x' }], unexpected: [] });
  });
});
