import { randomBytes } from 'node:crypto';
import type { AuditEvent } from '../events';
import type { ApiRecord, CollectorClient } from './collector-client';
import type { AttackClient } from './http';
import { TARGET_KINDS, type TargetKind } from './types';

/** Bad `--target` syntax. */
export class TargetSyntaxError extends Error {
  override name = 'TargetSyntaxError';
}

export interface TargetSpec {
  url: string;
  kind?: TargetKind;
}

/** `[stock|naive|fixed=]http(s)://host:port[/base]` */
export function parseTargetSpec(text: string): TargetSpec {
  const match = /^(?:([a-z]+)=)?(.+)$/i.exec(text.trim());
  const kindText = match?.[1]?.toLowerCase();
  const urlText = match?.[2] ?? '';
  if (kindText !== undefined && !(TARGET_KINDS as readonly string[]).includes(kindText)) {
    throw new TargetSyntaxError(`--target kind must be stock, naive or fixed, not '${kindText}' (in '${text}')`);
  }
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new TargetSyntaxError(`--target wants [stock|naive|fixed=]http://host:port, not '${text}'`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new TargetSyntaxError(`--target wants an http:// or https:// URL, not '${text}'`);
  if (url.search !== '' || url.hash !== '') throw new TargetSyntaxError(`--target wants the shop's base URL without query or fragment, not '${text}'`);
  const base = `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
  return { url: base, ...(kindText !== undefined && { kind: kindText as TargetKind }) };
}

/** How a target's records are recognised among everything the collector stores. */
export type SourceIdentity =
  | { format: 'event'; host: string; instance: string; app: string }
  | { format: 'raw'; host?: string; app?: string; peerIp: string };

function peerIp(peer: string): string {
  return peer.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
}

export function identityOf(record: ApiRecord): SourceIdentity {
  if (record.event !== undefined) return { format: 'event', host: record.event.host, instance: record.event.instance, app: record.event.app };
  return {
    format: 'raw',
    peerIp: peerIp(record.peer),
    ...(record.host !== undefined && { host: record.host }),
    ...(record.app !== undefined && { app: record.app }),
  };
}

function sameIdentity(a: SourceIdentity, b: SourceIdentity): boolean {
  if (a.format === 'event' && b.format === 'event') return a.host === b.host && a.instance === b.instance;
  if (a.format === 'raw' && b.format === 'raw') return a.peerIp === b.peerIp && a.host === b.host && a.app === b.app;
  return false;
}

/** Lab-only knowledge of a practice shop (the demo started it): its files, its console, its key. */
export interface LabShop {
  /** Juice Shop's logs/ (what /support/logs serves). */
  logDir?: string;
  /** Files holding the shop process's stdout and stderr. */
  consoleFiles?: string[];
  /** The RS256 public key (Juice Shop serves it at /encryptionkeys/jwt.pub; the practice shop does not). */
  publicKeyPem?: string;
}

export interface Target {
  /** Unique in the run: `stock`, `naive`, `fixed`, or `target2`... */
  name: string;
  index: number;
  url: string;
  kind: TargetKind;
  kindSource: 'given' | 'inferred';
  /** Sources the collector received this target's records from. Empty: nothing reaches the collector. */
  sources: SourceIdentity[];
  /** The lab's address as the target recorded it (who.ip of its events). */
  seenAs?: string;
  lab?: LabShop;
}

export function belongsTo(target: Target, record: ApiRecord): boolean {
  if (target.sources.length === 0) return false;
  const identity = identityOf(record);
  return target.sources.some((source) => sameIdentity(source, identity));
}

export function describeSources(target: Target): string {
  if (target.sources.length === 0) return 'nothing reached the collector (not instrumented, or logs only locally)';
  return target.sources
    .map((source) => (source.format === 'event' ? `a09 events from ${source.app}@${source.host} (instance ${source.instance.slice(0, 8)})` : `unstructured syslog from ${source.app ?? '?'}@${source.host ?? source.peerIp}`))
    .join('; ');
}

export interface ProbeResult {
  sources: SourceIdentity[];
  seenAs?: string;
  inferredKind: TargetKind;
}

/**
 * Asks the target for something harmless that carries a unique marker (a product search) and looks for
 * the marker at the collector: a09 events make it `fixed`, unstructured syslog `naive`, nothing `stock`.
 * The records found tell how to recognise the target's records later.
 */
export async function probeTarget(http: AttackClient, collector: CollectorClient, waitMs: number): Promise<ProbeResult> {
  const marker = `a09-lab-probe-${randomBytes(6).toString('hex')}`;
  const cursor = await collector.latestRecordId();
  await http.get(`/rest/products/search?q=${marker}`);
  const deadline = Date.now() + waitMs;
  let records: ApiRecord[] = [];
  let firstRawAt: number | undefined;
  for (;;) {
    records = await collector.recordsAfter(cursor, { text: marker }, 100);
    if (records.some((record) => record.event !== undefined) || Date.now() >= deadline) break;
    // Unstructured syslog came; a09 events (if the target also sends them) come within a second.
    if (records.length > 0) firstRawAt ??= Date.now();
    if (firstRawAt !== undefined && Date.now() - firstRawAt >= 1000) break;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  const sources: SourceIdentity[] = [];
  let seenAs: string | undefined;
  for (const record of records) {
    const identity = identityOf(record);
    if (!sources.some((known) => sameIdentity(known, identity))) sources.push(identity);
    const event: AuditEvent | undefined = record.event;
    if (event?.type === 'http_request' && event.who.ip !== undefined) seenAs ??= event.who.ip;
  }
  // A target can be both (a09 plus some syslog of its own): it is judged by its a09 events then.
  const inferredKind: TargetKind = sources.some((s) => s.format === 'event') ? 'fixed' : sources.length > 0 ? 'naive' : 'stock';
  return { sources, inferredKind, ...(seenAs !== undefined && { seenAs }) };
}
