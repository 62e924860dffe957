import fc from 'fast-check';
import { emptySequence, observe, restoreSequence, type GapState, type SequenceState } from '../../src/collector/sequence';

function feed(seqs: number[], state: SequenceState = emptySequence()) {
  let gapId = 0;
  const opened: GapState[] = [];
  const filled: GapState[] = [];
  const accepted: number[] = [];
  const duplicates: number[] = [];
  for (const seq of seqs) {
    const seen = observe(state, seq, 't', () => ++gapId);
    if (seen.kind === 'duplicate') duplicates.push(seq);
    else {
      accepted.push(seq);
      if (seen.opened) opened.push({ ...seen.opened });
      if (seen.filled) filled.push({ ...seen.filled });
    }
  }
  return { state, opened, filled, accepted, duplicates };
}

describe('sequence tracking', () => {
  it('advances contiguously and drops what it has seen', () => {
    const { state, accepted, duplicates, opened } = feed([1, 2, 3, 2, 3, 1, 4]);
    expect(accepted).toEqual([1, 2, 3, 4]);
    expect(duplicates).toEqual([2, 3, 1]);
    expect(opened).toEqual([]);
    expect(state).toMatchObject({ contiguous: 4, maxSeq: 4, received: [], openGaps: [] });
  });

  it('opens a gap on a skip, holds contiguous below it, and fills it from a replay in any order', () => {
    const { state, opened, filled, duplicates } = feed([1, 2, 6, 7, 4, 4, 3]);
    expect(opened).toEqual([{ id: 1, from: 3, to: 5, missing: 3, detectedAt: 't' }]);
    expect(duplicates).toEqual([4]);
    expect(state.contiguous).toBe(4);
    expect(state.received).toEqual([[6, 7]]);
    expect(filled).toEqual([]);
    const more = feed([5], state);
    expect(more.filled).toEqual([{ id: 1, from: 3, to: 5, missing: 0, detectedAt: 't', filledAt: 't' }]);
    expect(state).toMatchObject({ contiguous: 7, maxSeq: 7, received: [], openGaps: [] });
  });

  it('treats a first seq above 1 as a gap from 1', () => {
    const { opened, state } = feed([5]);
    expect(opened).toEqual([{ id: 1, from: 1, to: 4, missing: 4, detectedAt: 't' }]);
    expect(state.contiguous).toBe(0);
  });

  it('keeps memory proportional to holes: a million in-order events leave no runs', () => {
    const state = emptySequence();
    for (let seq = 1; seq <= 1_000_000; seq++) observe(state, seq === 10 ? 11 : seq === 11 ? 10 : seq, 't', () => 1);
    expect(state).toMatchObject({ contiguous: 1_000_000, received: [], openGaps: [] });
  });

  it('property: accepted = distinct seqs, contiguous and open gaps match a plain set model', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 150 }), (seqs) => {
        const { state, accepted, opened, filled } = feed(seqs);
        const seen = new Set<number>();
        const expectedAccepted = seqs.filter((seq) => (seen.has(seq) ? false : (seen.add(seq), true)));
        expect(accepted).toEqual(expectedAccepted);
        let contiguous = 0;
        while (seen.has(contiguous + 1)) contiguous++;
        expect(state.contiguous).toBe(contiguous);
        const max = Math.max(0, ...seen);
        expect(state.maxSeq).toBe(max);
        // Every missing seq below max lies in exactly one open gap, and open gaps hold only missing seqs.
        for (let seq = 1; seq <= max; seq++) {
          const gaps = state.openGaps.filter((gap) => seq >= gap.from && seq <= gap.to);
          if (seen.has(seq)) expect(gaps.every((gap) => gap.missing > 0)).toBe(true);
          else expect(gaps).toHaveLength(1);
        }
        for (const gap of state.openGaps) {
          let missing = 0;
          for (let seq = gap.from; seq <= gap.to; seq++) if (!seen.has(seq)) missing++;
          expect(gap.missing).toBe(missing);
        }
        expect(opened.length).toBe(state.openGaps.length + filled.length);
      }),
      { numRuns: 500 },
    );
  });

  it('property: a state restored from (contiguous, max, open gaps, seqs received in them) behaves the same', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { maxLength: 80 }), fc.array(fc.integer({ min: 1, max: 60 }), { maxLength: 80 }), (first, then) => {
        const original = feed(first).state;
        const seen = new Set(first);
        const restored = restoreSequence(
          original.contiguous,
          original.maxSeq,
          original.openGaps.map((gap) => ({ ...gap, missing: 0 })),
          (gap) => {
            const inside: number[] = [];
            for (let seq = gap.from; seq <= gap.to; seq++) if (seen.has(seq)) inside.push(seq);
            gap.missing = gap.to - gap.from + 1 - inside.length;
            return inside;
          },
        );
        expect(restored).toEqual(original);
        const a = feed(then, original);
        const b = feed(then, restored);
        expect(b.accepted).toEqual(a.accepted);
        expect(b.state).toEqual(a.state);
      }),
      { numRuns: 300 },
    );
  });
});
