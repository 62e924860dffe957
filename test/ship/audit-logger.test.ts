import { fork, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import TransportStream from 'winston-transport';
import type { AuditEvent } from '../../src/events';
import { sanitizeEvent } from '../../src/sanitize';
import { createAuditLogger, type AuditLogger, type AuditLoggerOptions } from '../../src/ship/audit-logger';
import type { AuditInfo } from '../../src/ship/transport';
import { AUDIT_SD_ID } from '../../src/ship/rfc5424';
import { freePort, httpInput, TestCollector, tempDir, waitFor } from './helpers';
import { parseRfc5424, sdParams } from './rfc5424-parser';
import { childEnv, transpileSources } from './transpile';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function scratch(): string {
  const dir = tempDir();
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function audit(options: AuditLoggerOptions): AuditLogger {
  const logger = createAuditLogger({ heartbeatMs: 0, lifecycle: false, hmacKey: 'test-key', app: 'juice-shop', host: 'shop-1', ...options });
  cleanups.push(() => logger.close());
  return logger;
}

async function collector(): Promise<TestCollector> {
  const sink = await TestCollector.start();
  cleanups.push(() => sink.stop());
  return sink;
}

const JWT = 'eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJkYXRhIjp7ImlkIjoxLCJlbWFpbCI6ImFkbWluQGp1aWNlLXNoLm9wIn19.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJl';

describe('createAuditLogger', () => {
  it('brackets its life with sys_startup and sys_shutdown unless told not to', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-lifecycle-'));
    try {
      const file = path.join(dir, 'events.jsonl');
      const logger = createAuditLogger({ file, heartbeatMs: 0, hmacKey: 'k', app: 'juice-shop', host: 'shop-1' });
      logger.emit({ type: 'sys_error', outcome: 'error' });
      await logger.close();
      const types = fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => (JSON.parse(line) as { type: string }).type);
      expect(types).toEqual(['sys_startup', 'sys_error', 'sys_shutdown']);

      const quiet = path.join(dir, 'quiet.jsonl');
      const silent = createAuditLogger({ file: quiet, heartbeatMs: 0, lifecycle: false });
      silent.emit({ type: 'sys_error', outcome: 'error' });
      await silent.close();
      expect(fs.readFileSync(quiet, 'utf8').trim().split('\n')).toHaveLength(1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  // In the shipping thread (the default) emit returns the event as created; without it, as sanitized.
  it.each([true, false])('creates, sanitizes and ships: the collector gets the redacted, neutralised event (thread: %s)', async (thread) => {
    const sink = await collector();
    const logger = audit({ collector: sink.url, spoolDir: scratch(), thread });
    const returned = logger.emit(
      httpInput({
        type: 'authn_login_fail',
        outcome: 'failure',
        email: 'Jim@Juice-sh.op',
        reason: 'bad password\n<13>1 forged',
        where: { method: 'GET', route: '/rest/user/change-password', url: '/rest/user/change-password?current=admin123&new=x', requestId: 'r1' },
        detail: { password: 'admin123', header: `Bearer ${JWT}` },
      }),
    );
    expect(returned).toBeDefined();
    const shipped = thread ? sanitizeEvent(returned!) : returned;
    expect(shipped!.who.emailMasked).toBe('j**@juice-sh.op');
    await waitFor(() => sink.messages.length === 1);
    const wire = sink.messages[0];
    expect(wire).not.toContain('admin123');
    expect(wire).not.toContain(JWT);
    expect(wire).not.toContain('Jim@Juice-sh.op');
    expect(wire).not.toMatch(/[\r\n]/);
    const parsed = parseRfc5424(wire);
    expect(parsed.msgId).toBe('authn_login_fail');
    // Neutralised once by sanitizeEvent, not again by the formatter: SD and MSG carry the same text.
    expect(sdParams(parsed, AUDIT_SD_ID)!.reason).toBe('bad password\\n<13>1 forged');
    expect(sdParams(parsed, AUDIT_SD_ID)!.reason).toBe(shipped!.reason);
    expect(JSON.parse(parsed.msg!)).toEqual(shipped);
    expect(logger.stats()).toMatchObject({ emitted: 1, schemaErrors: 0, failures: 0 });
    await logger.close();
    expect(logger.stats().ship).toMatchObject({ appended: 1, sent: 1, lost: 0 });
  });

  it('never throws on an incomplete event: counts it, warns once on stderr, returns undefined', async () => {
    const sink = await collector();
    const warnings: string[] = [];
    const logger = audit({ collector: sink.url, spoolDir: scratch(), warn: (line) => warnings.push(line) });
    // http_request needs who.ip, where.method, a URL or route and a request id.
    expect(logger.emit({ type: 'http_request', outcome: 'success' })).toBeUndefined();
    expect(logger.emit({ type: 'authn_login_success', outcome: 'success', who: { ip: '1.2.3.4' } })).toBeUndefined();
    expect(logger.stats().schemaErrors).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/incomplete audit event.*http_request/);
    // No seq was taken by the refused events: the next event is seq 1, no gap for the collector.
    expect(logger.emit(httpInput())?.seq).toBe(1);
  });

  it('never throws when the spool directory is unwritable: reports sys_monitor_disabled and still ships', async () => {
    const sink = await collector();
    const blocker = path.join(scratch(), 'file');
    fs.writeFileSync(blocker, 'x');
    const logger = audit({ collector: sink.url, spoolDir: path.join(blocker, 'spool') });
    await waitFor(() => logger.stats().ship?.connected === true);
    for (let i = 0; i < 5; i++) expect(() => logger.emit(httpInput())).not.toThrow();
    await waitFor(() => sink.messages.length >= 6);
    const types = sink.messages.map((message) => parseRfc5424(message).msgId);
    expect(types.filter((type) => type === 'sys_monitor_disabled')).toHaveLength(1);
    expect(types.filter((type) => type === 'http_request')).toHaveLength(5);
    const report = JSON.parse(parseRfc5424(sink.messages[types.indexOf('sys_monitor_disabled')]).msg!) as AuditEvent;
    expect(report.detail).toMatchObject({ sink: 'collector', reason: 'spool_error' });
  });

  it.each([true, false])('writes JSON lines to a file when no collector is configured: one line per event, printable ASCII (thread: %s)', async (thread) => {
    const file = path.join(scratch(), 'logs', 'audit.jsonl');
    const logger = audit({ file, thread });
    const nasty = ['a\nb', 'c\r\nd', 'e\u2028f', '\u001b[31mred\u001b[0m', 'g"]h', '<13>1 2025-01-01T00:00:00Z forged - - - - x', 'ü€😀'];
    const shipped = nasty.map((reason) => logger.emit(httpInput({ reason }))).map((event) => (thread ? sanitizeEvent(event!) : event));
    await logger.close();
    const text = fs.readFileSync(file, 'latin1');
    expect(text).toMatch(/^[\x20-\x7e\n]*$/);
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(nasty.length);
    expect(lines.map((line) => JSON.parse(line) as AuditEvent)).toEqual(shipped);
  });

  it('sends a heartbeat at the configured interval', async () => {
    const sink = await collector();
    const logger = audit({ collector: sink.url, spoolDir: scratch(), heartbeatMs: 30 });
    await waitFor(() => sink.messages.filter((message) => parseRfc5424(message).msgId === 'sys_heartbeat').length >= 2);
    const beat = JSON.parse(parseRfc5424(sink.messages[0]).msg!) as AuditEvent;
    expect(beat).toMatchObject({ type: 'sys_heartbeat', detail: { intervalMs: 30 } });
    await logger.close();
  });

  it("passes every event to the AppSec team's own winston transports", async () => {
    const seen: AuditInfo[] = [];
    const formatted: string[] = [];
    class Capture extends TransportStream {
      override log(info: AuditInfo, next: () => void): void {
        seen.push(info);
        formatted.push((info as unknown as Record<symbol, string>)[Symbol.for('message')]);
        next();
      }
    }
    const logger = audit({ file: path.join(scratch(), 'a.jsonl'), transports: [new Capture()] });
    const event = logger.emit(httpInput({ type: 'malicious_sqli', outcome: 'blocked' }));
    await waitFor(() => seen.length === 1);
    expect(seen[0]).toMatchObject({ level: 'crit', event });
    expect(JSON.parse(formatted[0])).toEqual(event);
  });

  it('hands events to a transport added later with logger.add(), and to the file sink directly', async () => {
    const seen: AuditInfo[] = [];
    class Capture extends TransportStream {
      override log(info: AuditInfo, next: () => void): void {
        seen.push(info);
        next();
      }
    }
    const file = path.join(scratch(), 'a.jsonl');
    const logger = audit({ file });
    expect(logger.logger.transports).toHaveLength(0);
    logger.emit(httpInput());
    logger.logger.add(new Capture());
    const later = logger.emit(httpInput({ type: 'malicious_sqli', outcome: 'blocked' }));
    await waitFor(() => seen.length === 1);
    expect(seen[0].event).toEqual(later);
    await logger.close();
    expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line).type)).toEqual(['http_request', 'malicious_sqli']);

  });

  it("honours the syslog transport's own level, as winston-transport would", async () => {
    const sink = await collector();
    const logger = audit({ collector: sink.url, spoolDir: scratch(), transport: { level: 'crit' } });
    logger.emit(httpInput());
    logger.emit(httpInput({ type: 'malicious_sqli', outcome: 'blocked' }));
    logger.emit(httpInput({ type: 'authn_login_fail', outcome: 'failure', email: 'jim@juice-sh.op' }));
    await logger.close();
    expect(sink.messages.map((message) => parseRfc5424(message).msgId)).toEqual(['malicious_sqli']);
  });

  it('refuses a configuration with neither collector nor file', () => {
    expect(() => createAuditLogger({})).toThrow(/collector.*file/);
  });

  it('a crashed process (SIGKILL, no close) leaves its events in the spool; the next one sends them', async () => {
    const out = scratch();
    transpileSources(out);
    const spoolDir = path.join(out, 'spool');
    const port = await freePort();
    const script = path.join(out, 'crash.js');
    fs.writeFileSync(
      script,
      `const { createAuditLogger } = require('./src/ship');
const logger = createAuditLogger({ collector: 'tcp://127.0.0.1:${port}', spoolDir: process.argv[2], heartbeatMs: 0, lifecycle: false, app: 'crash', hmacKey: 'k' });
for (let n = 1; n <= 50; n++) logger.emit({ type: 'sys_error', outcome: 'error', detail: { n } });
// Past the next event loop turn the batch is on disk: report, then wait to be killed.
setTimeout(() => process.send(logger.source.instance), 100);
`,
    );
    const child = fork(script, [spoolDir], { env: childEnv(), stdio: 'ignore' });
    const instance = await new Promise<string>((resolve) => child.once('message', (message) => resolve(String(message))));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    const sink = await TestCollector.start({}, port);
    cleanups.push(() => sink.stop());
    audit({ collector: sink.url, spoolDir });
    await waitFor(() => sink.messages.length >= 50);
    const fromChild = sink.messages.filter((message) => sdParams(parseRfc5424(message), AUDIT_SD_ID)?.instance === instance);
    expect(fromChild.map((message) => Number(sdParams(parseRfc5424(message), 'meta')!.sequenceId))).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('close() leaves nothing running: a process exits by itself after it, and not without it', async () => {
    const sink = await collector();
    const out = scratch();
    transpileSources(out);
    const script = path.join(out, 'child.js');
    fs.writeFileSync(
      script,
      `const { createAuditLogger } = require('./src/ship');
const [collector, spoolDir, mode] = process.argv.slice(2);
const logger = createAuditLogger({ collector, spoolDir, heartbeatMs: 20, lifecycle: false, app: 'child', hmacKey: 'k' });
logger.emit({ type: 'sys_startup', outcome: 'info' });
setTimeout(() => {
  if (mode === 'close') logger.close().then(() => console.log('closed'));
  else console.log('not closing');
}, 200);
`,
    );
    const run = (mode: string): Promise<number | null> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [script, sink.url, path.join(out, `spool-${mode}`), mode], { env: childEnv(), stdio: 'ignore' });
        // Closing takes well under a second; the control is killed after 2 s.
        const killer = setTimeout(() => child.kill('SIGKILL'), mode === 'close' ? 20_000 : 2000);
        child.on('exit', (code) => {
          clearTimeout(killer);
          resolve(code);
        });
      });
    expect(await run('close')).toBe(0);
    // The control: without close() the connection keeps the process alive until it is killed.
    expect(await run('keep')).toBeNull();
    expect(sink.messages.filter((message) => parseRfc5424(message).msgId === 'sys_startup')).toHaveLength(2);
  });
});
