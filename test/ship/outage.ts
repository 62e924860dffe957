import { sleep } from './helpers';
import type { Rsyslog } from './rsyslog';

/** Numbered events sent at a steady rate over OUTAGE_SEND_MS while the schedule below runs. */
export const OUTAGE_EVENTS = 2000;
export const OUTAGE_SEND_MS = 40_000;

type Action = 'kill' | 'term' | 'stop' | 'start';

/**
 * The outages of issue 2, in order: rsyslogd SIGKILLed and restarted, SIGTERMed and restarted,
 * SIGSTOPped for 2 s then SIGKILLed and restarted, and SIGKILLed and left down for 15 s.
 */
export const OUTAGE_SCHEDULE: ReadonlyArray<{ at: number; action: Action; note: string }> = [
  { at: 4000, action: 'kill', note: 'SIGKILL' },
  { at: 4000, action: 'start', note: 'restarted' },
  { at: 10_000, action: 'term', note: 'SIGTERM' },
  { at: 10_000, action: 'start', note: 'restarted' },
  { at: 16_000, action: 'stop', note: 'SIGSTOP (hung)' },
  { at: 18_000, action: 'kill', note: 'SIGKILL while hung' },
  { at: 18_000, action: 'start', note: 'restarted' },
  { at: 24_000, action: 'kill', note: 'SIGKILL, down for 15 s' },
  { at: 39_000, action: 'start', note: 'restarted' },
];

/**
 * Send events 1..OUTAGE_EVENTS at a steady rate (catching up after a slow tick, so the rate holds on a
 * busy machine) while rsyslogd goes through the schedule. Resolves when everything was handed over.
 */
export async function runOutage(rsyslog: Rsyslog, send: (n: number) => void, log: (line: string) => void): Promise<void> {
  const start = Date.now();
  const spacing = OUTAGE_SEND_MS / OUTAGE_EVENTS;
  let sent = 0;
  const sender = setInterval(() => {
    const due = Math.min(OUTAGE_EVENTS, Math.floor((Date.now() - start) / spacing) + 1);
    while (sent < due) send(++sent);
  }, 10);
  try {
    for (const step of OUTAGE_SCHEDULE) {
      const wait = start + step.at - Date.now();
      if (wait > 0) await sleep(wait);
      if (step.action === 'kill') await rsyslog.signal('SIGKILL');
      else if (step.action === 'term') await rsyslog.signal('SIGTERM');
      else if (step.action === 'stop') await rsyslog.signal('SIGSTOP');
      else await rsyslog.start();
      log(`t=${((Date.now() - start) / 1000).toFixed(1)}s ${step.note} (events sent: ${sent})`);
    }
    while (sent < OUTAGE_EVENTS) await sleep(20);
  } finally {
    clearInterval(sender);
  }
}

export interface OutageCount {
  received: number;
  unique: number;
  duplicates: number;
  missing: number[];
}

/** Count seqs 1..OUTAGE_EVENTS in what arrived. */
export function countSeqs(seqs: readonly number[]): OutageCount {
  const unique = new Set(seqs.filter((seq) => seq >= 1 && seq <= OUTAGE_EVENTS));
  const missing: number[] = [];
  for (let seq = 1; seq <= OUTAGE_EVENTS; seq++) if (!unique.has(seq)) missing.push(seq);
  return { received: seqs.length, unique: unique.size, duplicates: seqs.length - unique.size, missing };
}

/** `[1..5, 9, 12..14]` style, so a report of lost events stays short. */
export function ranges(seqs: readonly number[]): string {
  const parts: string[] = [];
  for (let i = 0; i < seqs.length; i++) {
    let j = i;
    while (j + 1 < seqs.length && seqs[j + 1] === seqs[j] + 1) j++;
    parts.push(i === j ? `${seqs[i]}` : `${seqs[i]}..${seqs[j]}`);
    i = j;
  }
  return `[${parts.join(', ')}]`;
}

/** Wait until `done` holds or nothing new arrived for quietMs (bounded by maxMs). */
export async function settle(progress: () => number, done: () => boolean, quietMs: number, maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = progress();
  let lastChange = Date.now();
  while (!done() && Date.now() < deadline && Date.now() - lastChange < quietMs) {
    await sleep(200);
    const now = progress();
    if (now !== last) {
      last = now;
      lastChange = Date.now();
    }
  }
}
