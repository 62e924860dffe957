/**
 * `a09-lab demo` without --exit: after the report it keeps the dashboard up, prints its URL and token,
 * and on Ctrl-C (SIGINT) stops every process of the lab and exits 0.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { builtCli } from './dist';

async function reachable(url: string, headers: Record<string, string> = {}): Promise<number | 'refused'> {
  try {
    const response = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    await response.arrayBuffer();
    return response.status;
  } catch {
    return 'refused';
  }
}

it('keeps the dashboard up with its URL and token until SIGINT, then stops the whole lab', async () => {
  const reportDir = mkdtempSync(path.join(tmpdir(), 'a09-demo-up-'));
  const child = spawn(process.execPath, [builtCli(), 'demo', '--scenario', 'sqli-login', '--report-dir', reportDir], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Ctrl-C stops it" within 120 s:\n${stdout}\n${stderr}`)), 120_000);
      child.stdout.on('data', (chunk: Buffer) => {
        stdout += chunk.toString('utf8');
        if (stdout.includes('Ctrl-C stops it')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('close', () => reject(new Error(`the demo exited early:\n${stdout}\n${stderr}`)));
    });
    const dashboard = /^dashboard: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(stdout)?.[1];
    const token = /^token:\s+(\S{16,})$/m.exec(stdout)?.[1];
    const shops = [...(/^shops:\s+(.*)$/m.exec(stdout)?.[1] ?? '').matchAll(/http:\/\/127\.0\.0\.1:\d+/g)].map((m) => m[0]);
    expect(dashboard).toBeDefined();
    expect(token).toBeDefined();
    expect(shops).toHaveLength(3);
    expect(stdout).toMatch(/^verify:\s+a09-lab verify --db \S+collector\.db$/m);
    expect(await reachable(`${dashboard!}api/health`, { Authorization: `Bearer ${token!}` })).toBe(200);
    expect(await reachable(`${dashboard!}api/health`)).toBe(401);
    expect(await reachable(dashboard!)).toBe(200);
    for (const shop of shops) expect(await reachable(`${shop}/rest/products/search?q=apple`)).toBe(200);

    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/SIGINT, stopping the lab/);
    for (const url of [dashboard!, ...shops]) expect(await reachable(url)).toBe('refused');
  } finally {
    child.kill('SIGKILL');
    rmSync(reportDir, { recursive: true, force: true });
  }
}, 180_000);
