import type { EventQuery } from '../collector';
import type { CollectedRecord, RecordFormat } from '../collector/record';
import { isEventType, type EventType } from '../events';
import { MAX_ALERT_LIMIT, type AlertQuery } from './alert-store';

/** A query parameter the API cannot use: answered with 400 and this message. */
export class FilterError extends Error {
  override name = 'FilterError';
}

/** Query parameters as Node's querystring parses them. */
export type QueryParams = Record<string, string | string[] | undefined>;

export const MAX_EVENT_LIMIT = 1000;
const MAX_TEXT = 200;
const FORMATS: readonly RecordFormat[] = ['rfc5424', 'rfc3164', 'raw'];

function single(params: QueryParams, name: string): string | undefined {
  const value = params[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) throw new FilterError(`${name} is given more than once`);
  if (value.length > 512) throw new FilterError(`${name} is too long`);
  return value;
}

function integer(params: QueryParams, name: string, min: number, max: number): number | undefined {
  const value = single(params, name);
  if (value === undefined || value === '') return undefined;
  if (!/^\d{1,15}$/.test(value)) throw new FilterError(`${name} must be an integer`);
  const number = Number(value);
  if (number < min || number > max) throw new FilterError(`${name} must be from ${min} to ${max}`);
  return number;
}

/** ISO 8601 in, the store's form out (UTC with milliseconds), so string comparison is time order. */
function time(params: QueryParams, name: string): string | undefined {
  const value = single(params, name);
  if (value === undefined || value === '') return undefined;
  if (!/^\d{4}-\d{2}-\d{2}([T ][\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/.test(value)) throw new FilterError(`${name} must be an ISO 8601 time`);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new FilterError(`${name} must be an ISO 8601 time`);
  return new Date(ms).toISOString();
}

function text(params: QueryParams, name: string): string | undefined {
  const value = single(params, name);
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_TEXT) throw new FilterError(`${name} is longer than ${MAX_TEXT} characters`);
  return value;
}

/**
 * `actor`: the alert key forms, so an alert's key filters its events: `ip:<address>`, `email:<emailId>`
 * (the pseudonym, never an address), `user:<userId>`.
 */
function applyActor(query: EventQuery, actor: string): void {
  const colon = actor.indexOf(':');
  const kind = colon === -1 ? '' : actor.slice(0, colon);
  const value = actor.slice(colon + 1);
  if (value.length === 0) throw new FilterError('actor wants ip:<address>, email:<emailId> or user:<userId>');
  if (kind === 'ip') query.ip = value;
  else if (kind === 'email') query.emailId = value;
  else if (kind === 'user') query.userId = value;
  else throw new FilterError('actor wants ip:<address>, email:<emailId> or user:<userId>');
}

/** `source`: `<host>`, `<host>/<instance>` or an alert's `source:<host>/<instance>` key (`-`: any instance). */
function applySource(query: EventQuery, source: string): void {
  const value = source.startsWith('source:') ? source.slice('source:'.length) : source;
  const slash = value.indexOf('/');
  const host = slash === -1 ? value : value.slice(0, slash);
  const instance = slash === -1 ? '' : value.slice(slash + 1);
  if (host.length === 0) throw new FilterError('source wants <host> or <host>/<instance>');
  query.host = host;
  if (instance.length > 0 && instance !== '-') query.instance = instance;
}

/**
 * GET /api/events parameters -> EventQuery. type (comma list), format, source, host, actor, ip,
 * maxSeverity, since, until, text, before, after, limit (default 100, at most 1000).
 */
export function eventQueryFrom(params: QueryParams): EventQuery {
  const query: EventQuery = {};
  const types = single(params, 'type');
  if (types !== undefined && types !== '') {
    const list = types.split(',').map((type) => type.trim()).filter((type) => type.length > 0);
    for (const type of list) if (!isEventType(type)) throw new FilterError(`unknown event type '${type.slice(0, 64)}'`);
    query.type = list as EventType[];
  }
  const format = single(params, 'format');
  if (format !== undefined && format !== '') {
    if (!(FORMATS as readonly string[]).includes(format)) throw new FilterError(`format must be one of ${FORMATS.join(', ')}`);
    query.format = format as RecordFormat;
  }
  const source = text(params, 'source');
  if (source !== undefined) applySource(query, source);
  const host = text(params, 'host');
  if (host !== undefined) query.host = host;
  const actor = text(params, 'actor');
  if (actor !== undefined) applyActor(query, actor);
  const ip = text(params, 'ip');
  if (ip !== undefined) query.ip = ip;
  applyShared(query, params);
  const before = integer(params, 'before', 1, Number.MAX_SAFE_INTEGER);
  const after = integer(params, 'after', 0, Number.MAX_SAFE_INTEGER);
  if (before !== undefined && after !== undefined) throw new FilterError('give before or after, not both');
  if (before !== undefined) query.beforeId = before;
  if (after !== undefined) {
    query.afterId = after;
    query.order = 'asc';
  } else {
    query.order = 'desc';
  }
  query.limit = integer(params, 'limit', 1, MAX_EVENT_LIMIT) ?? 100;
  return query;
}

/** The filters events and alerts share: maxSeverity, since, until, text. */
function applyShared(query: { maxSeverity?: number; since?: string; until?: string; text?: string }, params: QueryParams): void {
  const maxSeverity = integer(params, 'maxSeverity', 0, 7);
  if (maxSeverity !== undefined) query.maxSeverity = maxSeverity;
  const since = time(params, 'since');
  if (since !== undefined) query.since = since;
  const until = time(params, 'until');
  if (until !== undefined) query.until = until;
  const words = text(params, 'text');
  if (words !== undefined) query.text = words;
}

/** GET /api/alerts parameters -> AlertQuery: state, rule, type, key, maxSeverity, since, until, text, before, limit. */
export function alertQueryFrom(params: QueryParams): AlertQuery {
  const query: AlertQuery = {};
  const state = single(params, 'state');
  if (state !== undefined && state !== '') {
    if (state !== 'open' && state !== 'closed') throw new FilterError('state must be open or closed');
    query.state = state;
  }
  const rule = text(params, 'rule');
  if (rule !== undefined) query.ruleId = rule;
  const type = text(params, 'type');
  if (type !== undefined) query.type = type;
  const key = text(params, 'key');
  if (key !== undefined) query.key = key;
  applyShared(query, params);
  const before = integer(params, 'before', 1, Number.MAX_SAFE_INTEGER);
  if (before !== undefined) query.before = before;
  query.limit = integer(params, 'limit', 1, MAX_ALERT_LIMIT) ?? 100;
  return query;
}

/** A record as the API returns it: MSG is left out when it is one of our events (the event is MSG, parsed). */
export type ApiRecord = Omit<CollectedRecord, 'message'> & { message?: string };

export function apiRecord(record: CollectedRecord): ApiRecord {
  if (record.event === undefined) return record;
  const copy: ApiRecord = { ...record };
  delete copy.message;
  return copy;
}

/** The cursor for the next page, when this page was full. */
export function nextPage(query: EventQuery, records: readonly CollectedRecord[]): { before?: number; after?: number } | null {
  if (records.length < (query.limit ?? 100) || records.length === 0) return null;
  const last = records[records.length - 1].id;
  return query.order === 'asc' ? { after: last } : { before: last };
}
