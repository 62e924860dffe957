/**
 * The end-to-end tests run the built CLI (`a09-lab demo --exit`), as `npm start` does. `npm test` builds
 * first; run alone (`npx jest test/attacks`), this builds dist/ when it is missing or older than the sources.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CLI = path.join(ROOT, 'dist', 'src', 'cli', 'main.js');
const CHILD = path.join(ROOT, 'dist', 'src', 'attacks', 'lab', 'child.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (entry.name.endsWith('.ts') || entry.name.endsWith('.json')) newest = Math.max(newest, statSync(full).mtimeMs);
  }
  return newest;
}

function mtime(file: string): number {
  return existsSync(file) ? statSync(file).mtimeMs : 0;
}

/** The built CLI, building it first if needed (tsc emits even when another folder has type errors). */
export function builtCli(): string {
  const sources = Math.max(newestSource(path.join(ROOT, 'src')), newestSource(path.join(ROOT, 'middleware')));
  if (Math.min(mtime(CLI), mtime(CHILD)) < sources) {
    const build = spawnSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.json')], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    if (!existsSync(CLI) || !existsSync(CHILD)) throw new Error(`the build did not produce ${CLI}: ${build.stdout}${build.stderr}`);
  }
  return CLI;
}

export interface Finished {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI; past `timeoutMs` it gets SIGINT (the lab stops its processes on it). */
export function runCli(args: string[], timeoutMs: number): Promise<Finished> {
  const cli = builtCli();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGINT'), timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
