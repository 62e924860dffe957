/**
 * A scenario run against a stub target: canned HTTP answers and a crafted collector window, so a
 * scenario's checks can be judged on evidence written by hand (no servers).
 */
import { AttackClient, decideVerdict, type AttackResponse, type TargetKind, type TargetRun, type Verdict } from '../../src/attacks';
import type { ApiRecord } from '../../src/attacks/collector-client';
import type { RequestOptions } from '../../src/attacks/http';
import type { TargetScenario } from '../../src/attacks/scenario';
import type { SinkText } from '../../src/attacks/sinks';
import type { Target } from '../../src/attacks/target';
import type { AlertEvidence, Check, LeakEvidence } from '../../src/attacks/types';
import { makeView } from '../../src/attacks/window';
import { EventSource, type EventInput } from '../../src/events';
import { sanitizeEvent } from '../../src/sanitize';

export type Handler = (method: string, path: string, options: RequestOptions) => { status: number; text?: string; contentType?: string };

/** An AttackClient whose answers come from a function. */
export class StubClient extends AttackClient {
  readonly sent: Array<{ method: string; path: string; options: RequestOptions }> = [];

  constructor(private readonly handler: Handler) {
    super('http://stub.invalid');
  }

  override async request(method: string, path: string, options: RequestOptions = {}): Promise<AttackResponse> {
    const at = Date.now();
    this.firstRequestAt ??= at;
    this.lastRequestAt = at;
    this.sent.push({ method, path, options });
    const answer = this.handler(method, path, options);
    this.exchanges.push({ at, method, path, status: answer.status, ms: 0 });
    return { status: answer.status, text: answer.text ?? '', contentType: answer.contentType ?? 'text/plain', headers: new Headers() };
  }
}

const source = new EventSource({ app: 'juice-shop', host: 'shop-1', hmacKey: 'fake-key' });
let nextId = 1;

/** A stored a09 event as the collector's API returns it. */
export function eventRecord(input: EventInput): ApiRecord {
  const event = sanitizeEvent(source.create(input));
  return {
    id: nextId++,
    receivedAt: new Date().toISOString(),
    transport: 'tcp',
    peer: '127.0.0.1:50000',
    format: 'rfc5424',
    host: event.host,
    app: event.app,
    msgId: event.type,
    event,
  };
}

/** An unstructured syslog record (what winston-syslog sends). */
export function rawRecord(message: string): ApiRecord {
  return { id: nextId++, receivedAt: new Date().toISOString(), transport: 'udp', peer: '127.0.0.1:40000', format: 'rfc3164', host: 'localhost', app: 'node', message };
}

export function alert(type: string, extra: Partial<AlertEvidence> = {}): AlertEvidence {
  return { id: `00000000-0000-4000-8000-${String(nextId++).padStart(12, '0')}`, type, title: type, ruleId: type, level: 'CRITICAL', severity: 2, key: 'ip:127.9.9.9', count: 1, change: 'alert', afterMs: 120, ...extra };
}

export interface FakeEvidence {
  kind: TargetKind;
  handler: Handler;
  /** The collector's records of this target (after the attack). */
  records?: (nonce: string) => ApiRecord[];
  alerts?: AlertEvidence[];
  console?: string;
  nonce?: string;
}

export interface Judged {
  verdict: Verdict;
  checks: Check[];
  leaks: LeakEvidence[];
  notes: string[];
  client: StubClient;
}

/** Runs a scenario against the stub and judges it with the verdict rule. */
export async function judge(scenario: TargetScenario, evidence: FakeEvidence): Promise<Judged> {
  const nonce = evidence.nonce ?? 'c0ffee1234';
  const client = new StubClient(evidence.handler);
  const target: Target = {
    name: evidence.kind,
    index: 0,
    url: 'http://stub.invalid',
    kind: evidence.kind,
    kindSource: 'given',
    sources: evidence.records === undefined ? [] : [{ format: 'event', host: 'shop-1', instance: source.instance, app: 'juice-shop' }],
  };
  const leaks: LeakEvidence[] = [];
  const notes: string[] = [];
  const run: TargetRun = {
    target,
    http: client,
    nonce,
    attackerAddress: '127.9.9.9',
    ownAddress: true,
    collector: undefined as never,
    observe: async () => makeView(evidence.records?.(nonce) ?? [], evidence.alerts ?? [], client.firstRequestAt ?? Date.now()),
    consoleSinks: (): SinkText[] => (evidence.console === undefined ? [] : [{ sink: 'console', text: evidence.console }]),
    note: (line) => void notes.push(line),
    sample: () => undefined,
    leak: (leak) => void leaks.push(leak),
    earlier: [],
    tools: false,
    progress: () => undefined,
  };
  const outcome = await scenario.run(run);
  const checks = 'checks' in outcome ? [...outcome.checks] : [];
  return { verdict: decideVerdict(evidence.kind, outcome), checks, leaks, notes, client };
}

/** A stand-in for Juice Shop's login: right passwords give a token, `' OR 1=1--` logs in as admin. */
export function juiceLogin(passwords: Record<string, string>): Handler {
  return (method, path, options) => {
    if (method !== 'POST' || path !== '/rest/user/login') return { status: 404, text: 'not found' };
    const body = JSON.parse(options.body ?? '{}') as { email?: string; password?: string };
    const email = body.email ?? '';
    const bypass = /'\s*(or|--)/i.test(email);
    const user = bypass ? 'admin@juice-sh.op' : email;
    if (!bypass && passwords[email] !== body.password) return { status: 401, text: 'Invalid email or password.' };
    const payload = Buffer.from(JSON.stringify({ data: { email: user } })).toString('base64url');
    return { status: 200, text: JSON.stringify({ authentication: { token: `eyJhbGciOiJSUzI1NiJ9.${payload}.sig${user.length}`, bid: 1, umail: user } }), contentType: 'application/json' };
  };
}
