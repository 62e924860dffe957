/**
 * Catastrophic backtracking guard: every encoder and redactor must take time linear in its input. A
 * quadratic scanner takes ~100x as long on 1 MB as on 100 KB; a linear one ~10x. The bound is a ratio
 * (< 30x), not a duration; times are the process's CPU time, each side the best of a few runs, measured
 * again on a miss, so a loaded shared machine does not make it flaky. 10 KB -> 100 KB is checked first.
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

const SMALL = 100_000;
const LARGE = 1_000_000;
const MAX_RATIO = 30;

/** Adversarial units: each is repeated to fill 100 KB and 1 MB. */
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
  const smallCalls = from < SMALL ? 10 : 3;
  subject(small);
  const measure = (): number => bestTime(subject, large, 1, 2) / bestTime(subject, small, smallCalls, 2);
  let best = measure();
  // Retry a miss: one GC pause inside the single large call has shown 100x under a loaded CI run. A real
  // quadratic scanner fails every retry; `ratio` meets it first at 10 KB -> 100 KB, where retries are cheap.
  for (let retry = 0; retry < 3 && best >= MAX_RATIO && best < 10 * MAX_RATIO; retry += 1) best = Math.min(best, measure());
  return best;
}

/**
 * 10 KB -> 100 KB first: a quadratic scanner is caught there within seconds, rather than blocking the
 * worker for minutes on 1 MB (a synchronous loop cannot be interrupted by a test timeout).
 */
function ratio(subject: Subject, unit: string): number {
  const early = growth(subject, unit, SMALL / 10, SMALL);
  if (early >= MAX_RATIO) return early;
  return growth(subject, unit, SMALL, LARGE);
}

describe('linear time on 1 MB adversarial input (ratio 1 MB / 100 KB < 30)', () => {
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
