/**
 * Catastrophic backtracking guard: every encoder and redactor must take time linear in its input. On an
 * input 100x as long, a linear scanner takes ~100x as long and a quadratic one ~10,000x; the bound is the
 * geometric middle (< 1000x), a ratio and not a duration, so a loaded machine may inflate one side 10x
 * before a linear scanner fails. Times are the process's CPU time, each side the best of a few runs,
 * measured again on a miss. A 10x span with a bound of 30 left 3x of room and failed once in CI (ratios
 * 33-54 on a linear scanner while other suites loaded both cores). 1 KB -> 100 KB is checked first.
 */
import type { AuditEvent } from '../../src/events';
import {
  encodeHeaderField,
  encodeSdValue,
  neutralise,
  redactObject,
  redactString,
  redactUrl,
  sanitizeEvent,
  toJsonLine,
} from '../../src/sanitize';

const LARGE = 1_000_000;
/** Each step multiplies the length by this. */
const SPAN = 100;
/** sqrt(SPAN) x SPAN: ten times a linear scanner's growth, a tenth of a quadratic one's. */
const MAX_RATIO = 1000;

/** Adversarial units: each is repeated to fill 1 KB up to 1 MB. */
const ADVERSARIAL: Record<string, string> = {
  digits: '1',
  'eyJ repeats': 'eyJ',
  'eyJ segments': 'eyJa.',
  'a.a.a.': 'a.',
  spaces: ' ',
  'single digits': '1 ',
  'card groups': '4111 ',
  'digits and dashes': '1-',
  'key=': 'a=',
  'password=': 'password=',
  '"password":"': '"password":"',
  "password='": "password='",
  colons: ':',
  'bearer ': 'bearer ',
  'scheme://': '://',
  'userinfo': 'a://b:c@',
  'hex': 'a',
  'digest-like': '0192023a7bbd73250516f069df18b500 ',
  'PEM begin': '-----BEGIN ',
  backslashes: '\\',
  newlines: '\n',
  'C1 and separators': '\u0085\u2028\u202e',
};

type Subject = (input: string) => unknown;

const event = (text: string): AuditEvent => ({
  type: 'sys_error',
  level: 'WARN',
  severity: 3,
  time: '2026-11-27T19:37:04.123Z',
  seq: 1,
  instance: 'i',
  app: 'a',
  host: 'h',
  outcome: 'error',
  description: text,
  who: { userAgent: text },
  where: { url: text },
  detail: { message: text },
});

/** Escaping only has work to do on characters it escapes; one plain input checks the fast path. */
const ESCAPING_KINDS = ['digits', 'backslashes', 'newlines', 'C1 and separators'];
const OBJECT_KINDS = ['eyJ segments', 'key=', 'card groups', 'colons'];

const SUBJECTS: Array<[string, Subject, string[] | undefined]> = [
  ['redactString (digests on)', (text) => redactString(text, undefined, { digests: true }), undefined],
  ['redactUrl', (text) => redactUrl(`/x?q=${text}`), undefined],
  ['redactObject', (text) => redactObject({ body: text, [text.slice(0, 1000)]: 1 }), OBJECT_KINDS],
  ['neutralise (no cap)', (text) => neutralise(text, Infinity), ESCAPING_KINDS],
  ['encodeSdValue (no cap)', (text) => encodeSdValue(text, Infinity), ESCAPING_KINDS],
  ['toJsonLine (no cap)', (text) => toJsonLine({ text }, { maxStringLength: Infinity }), ESCAPING_KINDS],
];

/** A flat copy that differs from earlier ones, so no engine cache can answer for it. */
function freshCopy(base: string, salt: number): string {
  const copy = `${salt}${base}`;
  copy.charCodeAt(copy.length - 1);
  return copy;
}

/** CPU time of this process in microseconds: unlike wall time, it does not grow when other processes compete for the cores. */
function cpuMicros(): number {
  const usage = process.cpuUsage();
  return usage.user + usage.system;
}

function bestTime(subject: Subject, base: string, callsPerBatch: number, batches: number): number {
  let best = Infinity;
  for (let batch = 0; batch < batches; batch += 1) {
    const inputs = Array.from({ length: callsPerBatch }, (_, call) => freshCopy(base, batch * 100 + call));
    const started = cpuMicros();
    for (const input of inputs) subject(input);
    best = Math.min(best, Math.max(1, cpuMicros() - started) / callsPerBatch);
  }
  return best;
}

function filled(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
}

/** The growth from `from` to `to` characters: best of a few runs, measured up to three times on a miss. */
function growth(subject: Subject, unit: string, from: number, to: number): number {
  const small = filled(unit, from);
  const large = filled(unit, to);
  // Enough calls that a batch of the short input lasts about as long as one call on the long one.
  const smallCalls = Math.max(3, Math.min(100, Math.round(SPAN / Math.max(1, from / 1_000))));
  subject(small);
  const measure = (): number => bestTime(subject, large, 1, 2) / bestTime(subject, small, smallCalls, 2);
  let best = measure();
  // Retry a miss: one GC pause inside the single large call has shown 100x under a loaded CI run. A real
  // quadratic scanner fails every retry; `ratio` meets it first at 1 KB -> 100 KB, where retries are cheap.
  for (let retry = 0; retry < 3 && best >= MAX_RATIO && best < 10 * MAX_RATIO; retry += 1) best = Math.min(best, measure());
  return best;
}

/**
 * 1 KB -> 100 KB first: a quadratic scanner is caught there within seconds, rather than blocking the
 * worker for minutes on 1 MB (a synchronous loop cannot be interrupted by a test timeout).
 */
function ratio(subject: Subject, unit: string): number {
  const early = growth(subject, unit, LARGE / SPAN / SPAN, LARGE / SPAN);
  if (early >= MAX_RATIO) return early;
  return growth(subject, unit, LARGE / SPAN, LARGE);
}

describe('the measure tells quadratic from linear', () => {
  // A scanner that rescans the rest of its input every 64 characters: quadratic, with a small constant.
  const quadratic: Subject = (text) => {
    let found = 0;
    for (let start = 0; start < text.length; start += 64) found += text.indexOf('b', start);
    return found;
  };
  it('a quadratic scanner fails the bound', () => {
    expect(ratio(quadratic, 'a')).toBeGreaterThanOrEqual(MAX_RATIO);
  });
  it('a linear one passes it', () => {
    expect(ratio((text) => text.indexOf('b'), 'a')).toBeLessThan(MAX_RATIO);
  });
});

describe('linear time on 1 MB adversarial input (ratio 1 MB / 10 KB < 1000)', () => {
  describe.each(SUBJECTS)('%s', (_name, subject, kinds) => {
    const cases = Object.entries(ADVERSARIAL).filter(([kind]) => kinds === undefined || kinds.includes(kind));
    it.each(cases)('%s', (_kind, unit) => {
      expect(ratio(subject, unit)).toBeLessThan(MAX_RATIO);
    });
  });
});

describe('bounded work where a cap applies', () => {
  it('sanitizeEvent, neutralise with a cap and header fields return small output for 1 MB input', () => {
    for (const unit of Object.values(ADVERSARIAL)) {
      const large = unit.repeat(Math.ceil(LARGE / unit.length)).slice(0, LARGE);
      const sanitized = sanitizeEvent(event(large));
      expect(sanitized.description.length).toBeLessThanOrEqual(2048);
      expect(String(sanitized.detail.message).length).toBeLessThanOrEqual(8192);
      expect(neutralise(large).length).toBeLessThanOrEqual(4096);
      expect(encodeHeaderField(large, 255).length).toBeLessThanOrEqual(255);
    }
  });
});
