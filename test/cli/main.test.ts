import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli/main';
import { captureConsole } from './console-capture';

describe('a09-lab CLI', () => {
  let io: ReturnType<typeof captureConsole>;
  beforeEach(() => (io = captureConsole()));
  afterEach(() => io.restore());

  it('lists its commands on --help and exits 0', async () => {
    expect(await main(['--help'])).toBe(0);
    expect(io.out.join('\n')).toMatch(/verify/);
  });

  it('names an unknown command and exits 2 without a stack', async () => {
    expect(await main(['frobnicate'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/unknown command 'frobnicate'/);
    expect(io.err.join('\n')).not.toMatch(/\n\s+at /);
  });

  it('answers a bad flag with the usage, exit 2', async () => {
    expect(await main(['verify', '--nope'])).toBe(2);
    expect(io.err.join('\n')).toMatch(/Unknown option '--nope'[\s\S]*a09-lab verify --db/);
  });

  it('says plainly when the store does not exist', async () => {
    expect(await main(['verify', '--db', '/nonexistent/collector.db'])).toBe(1);
    expect(io.err).toEqual(['a09-lab verify: no collector store at /nonexistent/collector.db']);
  });

  it('reports a file that is no store as an error, not a crash', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'a09-cli-'));
    try {
      writeFileSync(join(dir, 'junk.db'), 'not a database');
      expect(await main(['verify', '--db', join(dir, 'junk.db')])).toBe(1);
      expect(io.err[0]).toMatch(/^a09-lab verify: /);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
