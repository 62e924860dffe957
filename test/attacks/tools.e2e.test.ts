/**
 * The real tools (`--tools`): hydra on the login, sqlmap on the login and the search, gobuster on paths,
 * against the demo's three shops. On the fixed shop each must be recorded and raise the attack-tool alert
 * and the alert of its kind of attack. A tool that is not installed is skipped, visibly.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TOOL_NAMES, findTool, type RunReport } from '../../src/attacks';
import { runCli, type Finished } from './dist';

const missing = TOOL_NAMES.filter((tool) => findTool(tool) === undefined);
if (missing.length > 0) console.warn(`SKIPPED: ${missing.join(', ')} not installed (Debian packages ${missing.join(' ')}): their tool checks do not run here`);

const reportDir = mkdtempSync(path.join(tmpdir(), 'a09-tools-report-'));
let finished: Finished;
let report: RunReport | undefined;

beforeAll(async () => {
  if (missing.length === TOOL_NAMES.length) return;
  // One run, no retry: the tools hit the three shops from one address (127.0.0.1), and the scanner rules
  // key per reporting source (perSource), so the naive shop's syslog lines can no longer open the fixed
  // shop's attack-tool alert and leave its events to a held-back update.
  finished = await runCli(['demo', '--exit', '--tools', '--scenario', 'dast-scan', '--report-dir', reportDir], 240_000);
  const file = path.join(reportDir, 'report.json');
  report = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as RunReport) : undefined;
  if (finished.code !== 0) console.warn(`dast-scan --tools exited ${finished.code ?? finished.signal}:\n${finished.stdout.slice(-4000)}`);
}, 300_000);

afterAll(() => {
  rmSync(reportDir, { recursive: true, force: true });
});

describe('dast-scan --tools', () => {
  (missing.length < TOOL_NAMES.length ? it : it.skip)('keeps the verdicts: failure shown on stock and naive, fixed on fixed', () => {
    if (report === undefined) throw new Error(`no report; demo exited ${finished.code ?? finished.signal}:\n${finished.stdout}\n${finished.stderr}`);
    expect(finished.code).toBe(0);
    expect(report.scenarios[0]!.results.map((r) => `${r.target}: ${r.verdict.label}`)).toEqual(['stock: failure shown', 'naive: failure shown', 'fixed: fixed']);
  });

  for (const tool of TOOL_NAMES) {
    (findTool(tool) !== undefined ? it : it.skip)(`${tool} is recorded on the fixed shop and fires the same alerts`, () => {
      const fixed = report!.scenarios[0]!.results.find((r) => r.target === 'fixed')!;
      const check = fixed.checks.find((c) => c.id === `tool:${tool}`);
      // The whole check (its detail says what ran, what was recorded, which alerts fired) shows on a failure.
      expect({ passed: check?.passed, detail: check?.detail, tools: fixed.evidence.observations.filter((line) => line.startsWith(`${tool} `)) }).toEqual(
        expect.objectContaining({ passed: true }),
      );
      expect(fixed.evidence.alerts.map((a) => a.type)).toContain('malicious_attack_tool');
      expect(fixed.evidence.observations.some((line) => line.startsWith(`${tool} `))).toBe(true);
      const stock = report!.scenarios[0]!.results.find((r) => r.target === 'stock')!;
      expect(stock.checks.find((c) => c.id === `tool:${tool}`)).toMatchObject({ passed: false });
    });
  }
});
