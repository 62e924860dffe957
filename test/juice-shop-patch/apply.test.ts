/**
 * juice-shop-patch/apply, the codemod for source builds: on a server.ts with Juice Shop's anchors it adds
 * marked blocks, is idempotent, `--check` tells, `--revert` gives the file back byte for byte; and the
 * patched file, compiled as Juice Shop compiles it, runs with the a09 middleware mounted.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { FIXTURE_SERVER, ROOT, buildFixture, childEnv, ensureBuilt, send, spawnNode, startTestCollector, tempDir, type Child } from './helpers';

interface ApplyModule {
  applyPatch(source: string, moduleSpecifier: string): { text: string; added: string[] };
  checkPatch(source: string): { applied: string[]; missing: string[] };
  revertPatch(source: string): { text: string; removed: string[] };
  main(argv: string[], io?: { out(line: string): void; err(line: string): void }): number;
  BLOCK_IDS: string[];
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const apply = require(path.join(ROOT, 'juice-shop-patch', 'apply.cjs')) as ApplyModule;
const EXPLICIT = path.join(ROOT, 'juice-shop-patch', 'explicit.cjs');
const fixture = fs.readFileSync(FIXTURE_SERVER, 'utf8');
const ALL = ['setup', 'after-json-parser', 'morgan', 'error-handler'];

function run(argv: string[]): { code: number; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  const code = apply.main(argv, { out: (line) => out.push(line), err: (line) => err.push(line) });
  return { code, out, err };
}

describe('applyPatch / checkPatch / revertPatch on a server.ts with Juice Shop anchors', () => {
  const patched = apply.applyPatch(fixture, EXPLICIT).text;
  const lines = patched.split('\n');
  const at = (text: string): number => lines.findIndex((line) => line.includes(text));

  it('adds the four blocks at their anchors, in the file\'s own style', () => {
    expect(apply.checkPatch(patched)).toEqual({ applied: ALL, missing: [] });
    // setup: right after `const app = express()`, before anything else uses the app.
    expect(lines[at('const app = express()') + 1]).toBe('// a09-lab:begin setup');
    expect(lines[at('// a09-lab:begin setup') + 1]).toBe(`const a09Lab = require(${JSON.stringify(EXPLICIT)}).fromEnvironment() // eslint-disable-line`);
    expect(lines.slice(at('// a09-lab:begin setup') + 2, at('// a09-lab:end setup'))).toEqual(['app.use(a09Lab.first)', 'a09Lab.param(app)']);
    // after-json-parser: after the closing `})` of the named jsonParser middleware, same indentation.
    const parserEnd = lines.findIndex((line, index) => index > at('function jsonParser') && line === '  })');
    expect(lines.slice(parserEnd + 1, parserEnd + 4)).toEqual(['  // a09-lab:begin after-json-parser', '  app.use(a09Lab.afterJsonParser)', '  // a09-lab:end after-json-parser']);
    // morgan: its url/referrer tokens replaced before the morgan line.
    expect(lines.slice(at("app.use(morgan('combined'") - 4, at("app.use(morgan('combined'"))).toEqual([
      '  // a09-lab:begin morgan',
      "  morgan.token('url', a09Lab.morganUrl)",
      "  morgan.token('referrer', a09Lab.morganReferrer)",
      '  // a09-lab:end morgan',
    ]);
    // error-handler: right before app.use(errorhandler()), using the name server.ts gave the module.
    expect(lines.slice(at('app.use(errorhandler())') - 3, at('app.use(errorhandler())'))).toEqual([
      '  // a09-lab:begin error-handler',
      '  app.use(a09Lab.errorHandler(() => errorhandler.title))',
      '  // a09-lab:end error-handler',
    ]);
    // Only additions: removing every added line gives the original.
    const added = patched.split('\n').length - fixture.split('\n').length;
    expect(added).toBe(5 + 3 + 4 + 3);
  });

  it('is idempotent and reverts to the original byte for byte', () => {
    expect(apply.applyPatch(patched, EXPLICIT)).toEqual({ text: patched, added: [] });
    expect(apply.revertPatch(patched)).toEqual({ text: fixture, removed: ALL });
    expect(apply.checkPatch(fixture)).toEqual({ applied: [], missing: ALL });
    expect(apply.revertPatch(fixture)).toEqual({ text: fixture, removed: [] });
  });

  it('completes a half-applied file to exactly the fully applied one', () => {
    for (const id of ALL) {
      const without = removeBlock(patched, id);
      expect(apply.checkPatch(without).missing).toEqual([id]);
      expect(apply.applyPatch(without, EXPLICIT)).toEqual({ text: patched, added: [id] });
    }
  });

  it('follows semicolons and CRLF line endings when the file uses them', () => {
    const semicolons = fixture.replace('const app = express()', 'const app = express();');
    const withSemis = apply.applyPatch(semicolons, EXPLICIT).text;
    expect(withSemis).toContain('  app.use(a09Lab.afterJsonParser);\n');
    expect(apply.revertPatch(withSemis).text).toBe(semicolons);
    const crlf = fixture.replace(/\n/g, '\r\n');
    const patchedCrlf = apply.applyPatch(crlf, EXPLICIT).text;
    expect(patchedCrlf.split('\r\n').length).toBe(patched.split('\n').length);
    expect(patchedCrlf.replace(/\r\n/g, '')).not.toContain('\n');
    expect(apply.revertPatch(patchedCrlf).text).toBe(crlf);
  });

  it('refuses, writing nothing, when an anchor is missing or markers are broken', () => {
    const cases: Array<[string, RegExp]> = [
      [fixture.replace('const app = express()', 'const app = createApp()'), /no module-level `const app = express\(\)`/],
      [fixture.replace('function jsonParser (', 'function parse ('), /jsonParser/],
      [fixture.replace("morgan('combined'", "morgan('dev'"), /morgan\('combined'/],
      [fixture.replace('app.use(errorhandler())', 'app.use(errorhandler({ log: false }))'), /app\.use\(errorhandler\(\)\)/],
      [fixture.replace("require('errorhandler')", "require('express-error-handler')"), /require\('errorhandler'\)/],
      [patched.replace('// a09-lab:end morgan', ''), /never ends|begins inside/],
    ];
    for (const [source, message] of cases) {
      expect(() => apply.applyPatch(source, EXPLICIT)).toThrow(message);
    }
  });

  it('apply then revert is the identity, whatever else the file holds (property)', () => {
    const filler = fc.constantFrom('', '  // a comment', '  app.use(compression())', '  app.set(\'view engine\', \'hbs\')', 'const x = 1', '  })  // not an anchor');
    // Lines inserted before each original line, never inside the jsonParser block (its end is found by indentation).
    const base = fixture.split('\n');
    const parserStart = base.findIndex((line) => line.includes('function jsonParser'));
    const parserEnd = base.findIndex((line, index) => index > parserStart && line === '  })');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(base.length - 1), filler), { maxLength: 12 }), (insertions) => {
        const copy = [...base];
        for (const [index, line] of [...insertions].sort((a, b) => b[0] - a[0])) {
          if (index > parserStart && index <= parserEnd + 1) continue;
          copy.splice(index, 0, line);
        }
        const source = copy.join('\n');
        const once = apply.applyPatch(source, EXPLICIT).text;
        expect(apply.checkPatch(once).missing).toEqual([]);
        expect(apply.applyPatch(once, EXPLICIT).text).toBe(once);
        expect(apply.revertPatch(once).text).toBe(source);
      }),
      { numRuns: 200 },
    );
  });
});

function removeBlock(source: string, id: string): string {
  const lines = source.split('\n');
  const begin = lines.findIndex((line) => line.trim() === `// a09-lab:begin ${id}`);
  const end = lines.findIndex((line) => line.trim() === `// a09-lab:end ${id}`);
  lines.splice(begin, end - begin + 1);
  return lines.join('\n');
}

describe('juice-shop-patch/apply as a command', () => {
  let dir: string;
  beforeEach(() => {
    dir = tempDir('apply');
    fs.writeFileSync(path.join(dir, 'server.ts'), fixture);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--check says not applied (1), apply (0), --check applied (0), again: already (0), --revert (0)', () => {
    const file = path.join(dir, 'server.ts');
    expect(run(['--check', dir]).code).toBe(1);
    const applied = run([dir]);
    expect(applied.code).toBe(0);
    expect(applied.out[0]).toMatch(/added setup, after-json-parser, morgan, error-handler/);
    expect(run(['--check', file])).toMatchObject({ code: 0, out: [expect.stringMatching(/: applied \(/)] });
    expect(run([file]).out[0]).toMatch(/already applied/);
    expect(run(['--revert', file]).code).toBe(0);
    expect(fs.readFileSync(file, 'utf8')).toBe(fixture);
    expect(run(['--revert', file]).out[0]).toMatch(/nothing to remove/);
  });

  it('writes the --module specifier it is given', () => {
    expect(run(['--module', 'a09-lab/juice-shop-patch/explicit.cjs', dir]).code).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'server.ts'), 'utf8')).toContain('require("a09-lab/juice-shop-patch/explicit.cjs").fromEnvironment()');
  });

  it('leaves a file without the anchors untouched (1), and answers misuse with the usage (2)', () => {
    const other = path.join(dir, 'other.ts');
    fs.writeFileSync(other, 'export const x = 1\n');
    const result = run([other]);
    expect(result.code).toBe(1);
    expect(result.err[0]).toMatch(/nothing was written/);
    expect(fs.readFileSync(other, 'utf8')).toBe('export const x = 1\n');
    expect(run(['--check', '--revert', dir]).code).toBe(2);
    expect(run(['--bogus']).code).toBe(2);
    expect(run([path.join(dir, 'missing.ts')]).code).toBe(1);
  });

  it('the executable wrapper runs the same command', () => {
    const result = spawnSync(path.join(ROOT, 'juice-shop-patch', 'apply'), ['--check', dir], { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stdout).toMatch(/NOT applied/);
  });
});

describe('the patched server.ts, compiled and run', () => {
  let dir: string;
  let child: Child | undefined;
  beforeAll(() => ensureBuilt());
  beforeEach(() => {
    dir = tempDir('applied');
  });
  afterEach(async () => {
    await child?.stop();
    child = undefined;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('mounts a09 by its explicit lines: events at the collector, generic error page with the title, redacted morgan line', async () => {
    const collector = await startTestCollector(dir);
    try {
      const entry = buildFixture(apply.applyPatch(fixture, EXPLICIT).text, dir);
      child = spawnNode('patched fixture', [entry], {
        cwd: dir,
        env: childEnv({ NODE_PATH: path.join(ROOT, 'node_modules'), PORT: '0', A09_COLLECTOR: collector.tcpUrl, A09_SPOOL_DIR: path.join(dir, 'spool') }),
      });
      const [, port] = await child.waitFor(/Server listening on \S+ port (\d+)/);
      expect(child.stdout).toMatch(/^a09 explicit \(fixed\): request context, helmet, audits and log guard first/m);
      const base = `http://127.0.0.1:${port}`;
      expect((await send(base, 'POST', '/rest/user/login', { json: { email: 'admin@juice-sh.op', password: 'wrong' } })).status).toBe(401);
      await collector.waitForEvent((e) => e.type === 'authn_login_fail', 'authn_login_fail');
      const page = await send(base, 'GET', '/rest/user/change-password?current=Secret-1&new=Secret-2&repeat=Secret-2');
      expect(page.status).toBe(500);
      expect(page.text).toMatch(/<title>Fixture Shop \(Express 4\)<\/title>[\s\S]*Incident/);
      expect(page.text).not.toMatch(/Blocked illegal activity/);
      await collector.waitForEvent((e) => e.type === 'sys_error', 'sys_error');
      expect((await send(base, 'GET', '/support/logs/access.log')).status).toBe(404);
      await collector.waitForEvent((e) => e.type === 'sensitive_read', 'sensitive_read');
      const log = fs.readFileSync(path.join(dir, 'logs', 'access.log'), 'utf8');
      expect(log).toMatch(/change-password\?current=\[REDACTED\]&new=\[REDACTED\]&repeat=\[REDACTED\]/);
      expect(log).not.toMatch(/Secret-/);
    } finally {
      await child?.stop();
      await collector.close();
    }
  });

  it('with A09_MODE=off the added lines pass everything through (stock behaviour)', async () => {
    const entry = buildFixture(apply.applyPatch(fixture, EXPLICIT).text, dir);
    child = spawnNode('patched fixture', [entry], { cwd: dir, env: childEnv({ NODE_PATH: path.join(ROOT, 'node_modules'), PORT: '0', A09_MODE: 'off' }) });
    const [, port] = await child.waitFor(/Server listening on \S+ port (\d+)/);
    expect(child.stdout).toMatch(/^a09 explicit: nothing mounted \(A09_MODE=off\)/m);
    const page = await send(`http://127.0.0.1:${port}`, 'GET', '/rest/user/change-password?current=a&new=b', { headers: { Accept: 'text/plain' } });
    expect(page.text).toMatch(/Blocked illegal activity/);
    const file = path.join(dir, 'logs', 'access.log');
    let log = '';
    for (let i = 0; i < 100 && !log.includes('change-password'); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      log = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    }
    expect(log).toContain('current=a&new=b');
  });
});
