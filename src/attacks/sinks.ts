import { readFileSync, statSync } from 'node:fs';
import { neutralise } from '../sanitize';
import type { ApiRecord } from './collector-client';
import type { AttackClient } from './http';
import type { LeakEvidence } from './types';

/** A text where logs end up, named for the report. */
export interface SinkText {
  sink: string;
  text: string;
}

export interface Secret {
  what: string;
  value: string;
}

/** The local date as file-stream-rotator names Juice Shop's access logs (`access.log.2026-11-27`). */
export function localDateStamp(date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** Text around a position, neutralised (payloads in evidence stay inert on a terminal) and capped. */
export function excerpt(text: string, index: number, length: number, around = 60): string {
  const start = Math.max(0, index - around);
  const end = Math.min(text.length, index + length + around);
  return `${start > 0 ? '…' : ''}${neutralise(text.slice(start, end), 400)}${end < text.length ? '…' : ''}`;
}

/** Every (sink, secret) pair where the secret occurs, with the text around the first occurrence. */
export function findSecrets(sinks: readonly SinkText[], secrets: readonly Secret[]): LeakEvidence[] {
  const leaks: LeakEvidence[] = [];
  for (const sink of sinks) {
    for (const secret of secrets) {
      if (secret.value.length === 0) continue;
      const at = sink.text.indexOf(secret.value);
      if (at !== -1) leaks.push({ sink: sink.sink, what: secret.what, excerpt: excerpt(sink.text, at, secret.value.length) });
    }
  }
  return leaks;
}

/** At most `max` leaks for the evidence, every kind of secret first (then the rest in order). */
export function varied(leaks: readonly LeakEvidence[], max: number): LeakEvidence[] {
  const first = new Map<string, LeakEvidence>();
  for (const leak of leaks) if (!first.has(leak.what)) first.set(leak.what, leak);
  const picked = [...first.values()];
  for (const leak of leaks) if (picked.length < max && !picked.includes(leak)) picked.push(leak);
  return picked.slice(0, max);
}

/** The text of a collector record as a sink: MSG, or the event, plus structured data. */
export function recordText(record: ApiRecord): string {
  const parts = [record.message ?? '', record.event === undefined ? '' : JSON.stringify(record.event), record.sd === undefined ? '' : JSON.stringify(record.sd)];
  return parts.filter((part) => part !== '').join('\n');
}

export function recordSinks(records: readonly ApiRecord[]): SinkText[] {
  return records.map((record) => ({ sink: `collector record ${record.id}`, text: recordText(record) }));
}

export interface DownloadedLog {
  name: string;
  text: string;
}

export interface SupportLogs {
  /** Status of GET /support/logs. */
  listingStatus: number;
  /** Names the listing gave (empty when refused). */
  listed: string[];
  /** Files the attacker could download (status 200). */
  files: DownloadedLog[];
  /** Names tried and refused, with the status. */
  refused: Array<{ name: string; status: number }>;
}

function namesFrom(text: string): string[] {
  try {
    const parsed = JSON.parse(text) as unknown;
    return Array.isArray(parsed) ? parsed.filter((name): name is string => typeof name === 'string' && !name.includes('/')) : [];
  } catch {
    return [];
  }
}

/**
 * What an attacker gets from Juice Shop's `/support/logs`: the listing, then each file (a few, capped).
 * When the listing is refused, today's access log and the naive team's app.log are tried by name.
 */
export async function downloadSupportLogs(http: AttackClient, maxFiles = 6): Promise<SupportLogs> {
  const listing = await http.get('/support/logs', { Accept: 'application/json' });
  const listed = listing.status === 200 ? namesFrom(listing.text) : [];
  const names = listed.length > 0 ? listed : [`access.log.${localDateStamp()}`, 'app.log'];
  const result: SupportLogs = { listingStatus: listing.status, listed, files: [], refused: [] };
  for (const name of names.slice(0, maxFiles)) {
    const response = await http.get(`/support/logs/${encodeURIComponent(name)}`);
    if (response.status === 200 && !/^\s*<!doctype html/i.test(response.text)) result.files.push({ name, text: response.text });
    else result.refused.push({ name, status: response.status });
  }
  return result;
}

export function supportLogSinks(logs: SupportLogs): SinkText[] {
  return logs.files.map((file) => ({ sink: `/support/logs/${file.name} (downloaded by the attacker)`, text: file.text }));
}

/** Files the lab can read (a practice shop's console output), each from `offset` on (capped at 8 MiB). */
export function fileSinks(files: ReadonlyArray<{ path: string; label: string; offset?: number }>): SinkText[] {
  const out: SinkText[] = [];
  for (const file of files) {
    try {
      const size = statSync(file.path).size;
      const from = Math.min(size, file.offset ?? 0);
      const text = readFileSync(file.path).subarray(Math.max(from, size - 8 * 1024 * 1024)).toString('utf8');
      out.push({ sink: file.label, text });
    } catch {
      // A missing console file is no sink.
    }
  }
  return out;
}

/** Current sizes of files, so a scenario reads only what its attack added. */
export function fileOffsets(paths: readonly string[]): Map<string, number> {
  const offsets = new Map<string, number>();
  for (const file of paths) {
    try {
      offsets.set(file, statSync(file).size);
    } catch {
      offsets.set(file, 0);
    }
  }
  return offsets;
}

/** Split on every line terminator a log viewer honours (LF, CR, NEL, U+2028, U+2029). */
export function logLines(text: string): string[] {
  return text.split(/\r\n|[\n\r\u0085\u2028\u2029]/);
}
