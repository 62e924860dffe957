import { decideVerdict, failedChecks, type Check, type TargetKind } from '../../src/attacks';

const held = (id: string): Check => ({ id, label: id, passed: true, detail: 'ok' });
const broken = (id: string): Check => ({ id, label: id, passed: false, detail: 'leaked' });

describe('decideVerdict', () => {
  it('calls a fixed target fixed only when every check held', () => {
    expect(decideVerdict('fixed', { checks: [held('a'), held('b')] })).toEqual({ status: 'fixed', label: 'fixed', expected: true });
    expect(decideVerdict('fixed', { checks: [held('a'), broken('b')] })).toEqual({ status: 'NOT fixed', label: 'NOT fixed', expected: false });
    expect(decideVerdict('fixed', { checks: [broken('a')] }).status).toBe('NOT fixed');
  });

  it.each<TargetKind>(['stock', 'naive'])('says %s shows the failure when any check failed, and says so when none did', (kind) => {
    expect(decideVerdict(kind, { checks: [held('a'), broken('b')] })).toEqual({ status: 'failure shown', label: 'failure shown', expected: true });
    expect(decideVerdict(kind, { checks: [held('a'), held('b')] })).toEqual({ status: 'failure not shown', label: 'failure not shown', expected: false });
  });

  it('reports errors and scenarios that could not run as they are', () => {
    expect(decideVerdict('fixed', { error: 'GET http://x/: ECONNREFUSED\n  at stack' })).toEqual({ status: 'error', label: 'error: GET http://x/: ECONNREFUSED at stack', expected: false });
    expect(decideVerdict('stock', { error: '' }).label).toBe('error: unknown error');
    expect(decideVerdict('naive', { notRun: 'needs the lab' })).toEqual({ status: 'not run', label: 'not run: needs the lab', expected: true });
  });

  it('refuses to judge without checks (a scenario that checks nothing cannot pass)', () => {
    for (const kind of ['stock', 'naive', 'fixed'] as const) expect(decideVerdict(kind, { checks: [] }).status).toBe('error');
  });

  it('lists the failed checks', () => {
    expect(failedChecks([held('a'), broken('b'), broken('c')]).map((c) => c.id)).toEqual(['b', 'c']);
  });
});
