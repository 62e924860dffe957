import path from 'node:path';
import { Worker, type WorkerOptions } from 'node:worker_threads';

/**
 * Loads a module in a worker thread. From dist/ it is plain require; under ts-jest the sources are
 * TypeScript, so the bootstrap transpiles them with the project's typescript (cached in the temp directory
 * by path, mtime and size: loading typescript costs more than the rest of a start).
 */
const BOOTSTRAP = `
const { workerData } = require('node:worker_threads');
const entry = workerData.entry;
if (entry.endsWith('.ts')) {
  const fs = require('node:fs');
  const os = require('node:os');
  const path = require('node:path');
  const crypto = require('node:crypto');
  const cacheDir = path.join(os.tmpdir(), 'a09-lab-worker-cache');
  let ts;
  require.extensions['.ts'] = (module, filename) => {
    const stat = fs.statSync(filename);
    const key = crypto.createHash('sha256').update(filename + ':' + stat.mtimeMs + ':' + stat.size).digest('hex');
    const cached = path.join(cacheDir, key + '.js');
    let code;
    try {
      code = fs.readFileSync(cached, 'utf8');
    } catch {
      ts = ts || require(require.resolve('typescript', { paths: [path.dirname(entry)] }));
      code = ts.transpileModule(fs.readFileSync(filename, 'utf8'), {
        fileName: filename,
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      }).outputText;
      fs.mkdirSync(cacheDir, { recursive: true });
      const temporary = cached + '.' + process.pid + '.' + Date.now() + '.tmp';
      fs.writeFileSync(temporary, code);
      fs.renameSync(temporary, cached);
    }
    module._compile(code, filename);
  };
}
require(entry);
`;

/**
 * A worker running `<dir>/<name>.js` (or `.ts` beside a TypeScript caller). `data` reaches it as
 * `workerData.data`. The app's `--require`/`--import` flags are not passed on; preloads given in NODE_OPTIONS
 * still run in every worker (Node does that), so a preload must check `isMainThread` (register.cjs does).
 */
export function startModuleWorker(callerFile: string, name: string, data: unknown, options: Omit<WorkerOptions, 'eval' | 'workerData'> = {}): Worker {
  const entry = path.join(path.dirname(callerFile), `${name}${path.extname(callerFile)}`);
  return new Worker(BOOTSTRAP, { ...options, eval: true, workerData: { entry, data }, execArgv: withoutPreloads(process.execArgv) });
}

/** execArgv minus `--require`/`-r` and `--import` (their values too). */
function withoutPreloads(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--require' || arg === '-r' || arg === '--import') {
      i++;
      continue;
    }
    if (arg.startsWith('--require=') || arg.startsWith('--import=')) continue;
    out.push(arg);
  }
  return out;
}
