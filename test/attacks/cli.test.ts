/**
 * `a09-lab attack` in-process against a collector service and practice shops started here: usage and
 * user errors in one line (no stack), kind inference, verdicts in JSON.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { RunReport } from '../../src/attacks';
import { main } from '../../src/cli/main';
import { startCollectorService, type CollectorService } from '../../src/dashboard';
import { createAuditLogger, type AuditLogger } from '../../src/ship';
import { createShop, generateShopKeys, type ListeningShop, type Shop } from '../../src/shop';

const TOKEN = 'attack-cli-test-token-0123456789';

interface Captured {
  code: number;
  out: string;
  err: string;
}

async function run(argv: string[]): Promise<Captured> {
  const out: string[] = [];
  const err: string[] = [];
  const spies = [
    jest.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void out.push(args.join(' '))),
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void err.push(args.join(' '))),
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true)),
  ];
  try {
    const code = await main(argv);
    return { code, out: out.join('\n'), err: err.join('\n') };
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

const noStack = (text: string): void => expect(text).not.toMatch(/\n\s+at .+:\d+:\d+/);

describe('a09-lab attack: arguments', () => {
  it.each([
    [['attack'], /give at least one --target/],
    [['attack', '--target', 'http://127.0.0.1:1'], /--collector URL is required/],
    [['attack', '--target', 'ftp://127.0.0.1:1', '--collector', 'http://127.0.0.1:2', '--token', TOKEN], /--target wants an http:\/\/ or https:\/\/ URL/],
    [['attack', '--target', 'evil=http://127.0.0.1:1', '--collector', 'http://127.0.0.1:2', '--token', TOKEN], /--target kind must be stock, naive or fixed/],
    [['attack', '--target', 'http://127.0.0.1:1', '--collector', 'udp://127.0.0.1:5514', '--token', TOKEN], /--collector wants an http/],
    [['attack', '--target', 'http://127.0.0.1:1', '--collector', 'http://127.0.0.1:2', '--token', TOKEN, '--scenario', 'nope'], /unknown scenario 'nope'/],
    [['attack', '--target', 'http://127.0.0.1:1', '--collector', 'http://127.0.0.1:2', '--token', TOKEN, '--bogus'], /Unknown option '--bogus'/],
  ])('%j is a usage error (exit 2) with the usage', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err).toContain('a09-lab attack --target');
    noStack(result.err);
  });

  it.each([
    [['demo', '--scenario', 'nope'], /unknown scenario 'nope'/],
    [['demo', '--report-dir', ''], /--report-dir is empty/],
    [['demo', '--exit=yes'], /--exit/],
  ])('demo %j is a usage error (exit 2) before anything starts', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(result.err).toContain('a09-lab demo [--exit]');
    noStack(result.err);
  });

  it('prints its usage with --help', async () => {
    const result = await run(['attack', '--help']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('--collector URL');
  });
});

describe('a09-lab attack against practice shops', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'a09-attack-cli-'));
  let service: CollectorService;
  let logger: AuditLogger;
  let fixed: Shop;
  let stock: Shop;
  let fixedUrl: ListeningShop;
  let stockUrl: ListeningShop;

  beforeAll(async () => {
    service = await startCollectorService({ dbPath: path.join(dir, 'collector.db'), udp: false, tcp: { port: 0 }, http: { port: 0 }, token: TOKEN, onError: () => undefined });
    logger = createAuditLogger({ app: 'juice-shop', collector: `tcp://127.0.0.1:${service.addresses.tcp!.port}`, spoolDir: path.join(dir, 'spool'), heartbeatMs: 0 });
    const keys = generateShopKeys();
    fixed = await createShop({ mode: 'fixed', logDir: path.join(dir, 'fixed-logs'), keys, fixed: { emitter: logger } });
    stock = await createShop({ mode: 'stock', logDir: path.join(dir, 'stock-logs'), keys });
    fixedUrl = await fixed.listen(0, '127.0.0.1');
    stockUrl = await stock.listen(0, '127.0.0.1');
  });

  afterAll(async () => {
    await fixed.close();
    await stock.close();
    await logger.close();
    await service.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('infers the kinds, judges each target, and leaves the lab scenarios "not run"', async () => {
    const result = await run([
      'attack', '--target', fixedUrl.url, '--target', `stock=${stockUrl.url}`, '--collector', service.url, '--token', TOKEN,
      '--scenario', 'sqli-login', '--scenario', 'forged-token', '--scenario', 'collector-outage', '--json', '--no-report',
    ]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.out) as RunReport;
    expect(report.targets.map((t) => [t.name, t.kind, t.kindSource])).toEqual([['target1', 'fixed', 'inferred'], ['stock', 'stock', 'given']]);
    const verdicts = report.scenarios.map((s) => [s.scenario.id, ...s.results.map((r) => r.verdict.label)]);
    expect(verdicts).toEqual([
      ['sqli-login', 'fixed', 'failure shown'],
      ['forged-token', 'fixed', 'failure shown'],
      ['collector-outage', "not run: needs control of the collector process (run by 'a09-lab demo')", "not run: needs control of the collector process (run by 'a09-lab demo')"],
    ]);
    const sqli = report.scenarios[0]!.results[0]!;
    expect(sqli.evidence.alerts.map((a) => a.type)).toContain('malicious_sqli');
    expect(sqli.evidence.timeToAlertMs).toBeGreaterThanOrEqual(0);
    // The practice shop serves /encryptionkeys as Juice Shop does: the HS256 confusion is tried under `attack` too.
    const forged = report.scenarios[1]!.results[0]!.evidence.observations;
    expect(forged).toContain('public key from GET /encryptionkeys/jwt.pub');
    expect(forged.some((line) => line.startsWith('HS256 with the public key:'))).toBe(true);
    expect(result.err).toContain('all 6 verdicts as expected');
  });

  it('says in one line when a target is unreachable', async () => {
    const port = await closedPort();
    const result = await run(['attack', '--target', `http://127.0.0.1:${port}`, '--collector', service.url, '--token', TOKEN, '--no-report']);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(new RegExp(`a09-lab attack: target target1 \\(http://127\\.0\\.0\\.1:${port}\\) is unreachable: .*ECONNREFUSED`));
    noStack(result.err);
  });

  it('says in one line when the collector refuses the token or is not there', async () => {
    const refused = await run(['attack', '--target', stockUrl.url, '--collector', service.url, '--token', `${TOKEN}-wrong`, '--no-report']);
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(/refused the token \(401\)/);
    const port = await closedPort();
    const absent = await run(['attack', '--target', stockUrl.url, '--collector', `http://127.0.0.1:${port}`, '--token', TOKEN, '--no-report']);
    expect(absent.code).toBe(1);
    expect(absent.err).toMatch(/the collector at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\)/);
    noStack(refused.err + absent.err);
  });
});
