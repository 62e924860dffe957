/**
 * Per-source sequence bookkeeping: which seqs of one (host, instance) arrived, in memory proportional to the
 * number of holes, not of events.
 *
 * `contiguous` is the highest seq below which everything arrived (what an ACK may promise); `received` holds
 * the runs that arrived above it (sorted, disjoint, never touching); `openGaps` the holes as they were
 * detected, each with how many of its seqs are still missing.
 */

export interface GapState {
  id: number;
  from: number;
  to: number;
  missing: number;
  detectedAt: string;
  filledAt?: string;
}

export interface SequenceState {
  contiguous: number;
  maxSeq: number;
  /** Runs [from, to] that arrived above `contiguous`. */
  received: Array<[number, number]>;
  openGaps: GapState[];
}

export type Observation =
  | { kind: 'duplicate' }
  | { kind: 'accepted'; opened?: GapState; filled?: GapState };

export function emptySequence(): SequenceState {
  return { contiguous: 0, maxSeq: 0, received: [], openGaps: [] };
}

/** Index of the run containing seq, or -(insertion point) - 1. */
function findRun(runs: Array<[number, number]>, seq: number): number {
  let low = 0;
  let high = runs.length - 1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    const run = runs[mid];
    if (seq < run[0]) high = mid - 1;
    else if (seq > run[1]) low = mid + 1;
    else return mid;
  }
  return -low - 1;
}

function addToRuns(runs: Array<[number, number]>, seq: number, at: number): void {
  const before = at > 0 ? runs[at - 1] : undefined;
  const after = at < runs.length ? runs[at] : undefined;
  const joinsBefore = before !== undefined && before[1] === seq - 1;
  const joinsAfter = after !== undefined && after[0] === seq + 1;
  if (joinsBefore && joinsAfter) {
    before[1] = after[1];
    runs.splice(at, 1);
  } else if (joinsBefore) {
    before[1] = seq;
  } else if (joinsAfter) {
    after[0] = seq;
  } else {
    runs.splice(at, 0, [seq, seq]);
  }
}

/**
 * Record that seq arrived. `nextGapId` names a gap this reveals; `now` stamps it. A seq at or below
 * `contiguous`, or in a run already received, is a duplicate and changes nothing.
 */
export function observe(state: SequenceState, seq: number, now: string, nextGapId: () => number): Observation {
  // The common case: the next seq, nothing pending above.
  if (seq === state.contiguous + 1 && state.received.length === 0) {
    state.contiguous = seq;
    if (seq > state.maxSeq) state.maxSeq = seq;
    return { kind: 'accepted' };
  }
  if (seq <= state.contiguous) return { kind: 'duplicate' };
  const at = findRun(state.received, seq);
  if (at >= 0) return { kind: 'duplicate' };

  const result: { kind: 'accepted'; opened?: GapState; filled?: GapState } = { kind: 'accepted' };
  if (seq > state.maxSeq) {
    if (seq > state.maxSeq + 1) {
      const gap: GapState = { id: nextGapId(), from: state.maxSeq + 1, to: seq - 1, missing: seq - 1 - state.maxSeq, detectedAt: now };
      state.openGaps.push(gap);
      result.opened = gap;
    }
    state.maxSeq = seq;
  } else {
    // Below the highest seen and not received: it fills part of a hole.
    const index = state.openGaps.findIndex((gap) => seq >= gap.from && seq <= gap.to);
    if (index >= 0) {
      const gap = state.openGaps[index];
      gap.missing--;
      if (gap.missing === 0) {
        gap.filledAt = now;
        state.openGaps.splice(index, 1);
        result.filled = gap;
      }
    }
  }

  addToRuns(state.received, seq, -at - 1);
  const first = state.received[0];
  if (first[0] === state.contiguous + 1) {
    state.contiguous = first[1];
    state.received.shift();
  }
  return result;
}

/**
 * Rebuild the runs after a restart from what the store knows: contiguous, the highest seq, the open gaps and
 * the seqs that arrived inside them (sorted).
 */
export function restoreSequence(
  contiguous: number,
  maxSeq: number,
  openGaps: GapState[],
  receivedInGaps: (gap: GapState) => number[],
): SequenceState {
  const state: SequenceState = { contiguous, maxSeq, received: [], openGaps: [...openGaps].sort((a, b) => a.from - b.from) };
  // Holes: the missing seqs of every open gap, as runs.
  const holes: Array<[number, number]> = [];
  for (const gap of state.openGaps) {
    let next = gap.from;
    for (const seq of receivedInGaps(gap)) {
      if (seq > next) holes.push([next, seq - 1]);
      next = seq + 1;
    }
    if (next <= gap.to) holes.push([next, gap.to]);
  }
  // Received runs: (contiguous, maxSeq] minus the holes.
  let next = contiguous + 1;
  for (const [from, to] of holes) {
    if (from > next) state.received.push([next, from - 1]);
    next = to + 1;
  }
  if (next <= maxSeq) state.received.push([next, maxSeq]);
  if (state.received.length > 0 && state.received[0][0] === state.contiguous + 1) {
    state.contiguous = state.received[0][1];
    state.received.shift();
  }
  return state;
}
