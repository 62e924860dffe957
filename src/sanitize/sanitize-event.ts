/**
 * The last step before a sink: every string of an audit event is redacted (CWE-532), then neutralised
 * and capped (CWE-117). Runs once per request, so strings with nothing to do are returned as they are
 * (each redactor and `neutralise` have a one-test fast path) and only the event's own objects are copied.
 */
import type { AuditEvent, DetailValue, Who, Where } from '../events';
import { neutralise, neutraliseCut } from './neutralise';
import { DEFAULT_REDACTION, RedactionPolicy, isSensitiveKey } from './policy';
import { redactString } from './redact-string';
import { redactUrl } from './redact-url';

/** Caps in characters after escaping (the marker `…[+N chars]` included). */
export interface EventFieldLimits {
  /** time, instance, app, host, ids, ip, role, method. */
  readonly short: number;
  readonly userAgent: number;
  readonly forwardedFor: number;
  readonly route: number;
  readonly url: number;
  readonly reason: number;
  readonly description: number;
  readonly detailKey: number;
  /** Each string in detail (error messages and stacks are the long ones). */
  readonly detailValue: number;
  /** Keys kept in detail; the rest are counted under the key "…". */
  readonly detailKeys: number;
}

export const DEFAULT_EVENT_LIMITS: EventFieldLimits = Object.freeze({
  short: 256,
  userAgent: 512,
  forwardedFor: 512,
  route: 512,
  url: 2048,
  reason: 512,
  description: 2048,
  detailKey: 64,
  detailValue: 8192,
  detailKeys: 64,
});

function asText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  return typeof value === 'string' ? value : String(value);
}

/**
 * Raw text past this length is dropped before redaction, so the work per field is bounded whatever a client
 * sends (the cap keeps less than this anyway: redaction shortens text by little, escaping only lengthens it).
 */
function rawLimit(cap: number): number {
  return cap * 2 + 8192;
}

function isDelimiter(code: number): boolean {
  // whitespace , ; & " ' ( ) < > [ ] { } |: no JWT, bearer token, digest or base64 holds one.
  return (
    code <= 32 || code === 44 || code === 59 || code === 38 || code === 34 || code === 39 || code === 40 ||
    code === 41 || code === 60 || code === 62 || code === 91 || code === 93 || code === 123 || code === 125 || code === 124
  );
}

function isCardChar(code: number): boolean {
  return (code >= 48 && code <= 57) || code === 32 || code === 45;
}

/**
 * Where to cut over-long raw text so that no secret is cut in half (a half JWT is no longer recognised, yet
 * its payload still leaks): back to the last delimiter before the limit, then back over a run of digit
 * groups (a half card number).
 */
export function safeCutPoint(text: string, limit: number): number {
  let cut = Math.min(limit, text.length);
  if (cut === text.length) return cut;
  while (cut > 0 && !isDelimiter(text.charCodeAt(cut - 1))) cut -= 1;
  let digits = cut;
  while (digits > 0 && isCardChar(text.charCodeAt(digits - 1))) digits -= 1;
  if (/\d/.test(text.slice(digits, cut))) cut = digits;
  return cut;
}

interface Context {
  readonly policy: RedactionPolicy;
  readonly limits: EventFieldLimits;
  readonly digestsInText: boolean;
}

/** How a field is redacted: as an id (no digests: ids may be hex), as free text, or as a URL. */
const enum Kind {
  Id,
  Text,
  Url,
}

function redact(text: string, kind: Kind, context: Context): string {
  if (kind === Kind.Url) return redactUrl(text, context.policy);
  return redactString(text, context.policy, kind === Kind.Text && context.digestsInText ? DIGESTS : NO_DIGESTS);
}

const DIGESTS = Object.freeze({ digests: true });
const NO_DIGESTS = Object.freeze({ digests: false });

/**
 * Recent results, direct-mapped: a request's events repeat its address, user agent, URL, request id and
 * route, and each type repeats its description, so most fields were just sanitized. Only for frozen
 * policies (a mutable one could change between calls) and short text; a collision just replaces the slot.
 */
interface MemoSlot {
  text: string;
  cap: number;
  kind: Kind;
  policy: RedactionPolicy;
  out: string;
}

const MEMO_SLOTS = 64;
const MEMO_MAX_LENGTH = 512;
const memo: Array<MemoSlot | undefined> = new Array<MemoSlot | undefined>(MEMO_SLOTS);

function memoIndex(text: string, cap: number, kind: Kind): number {
  const length = text.length;
  return (length * 31 + text.charCodeAt(0) * 7 + text.charCodeAt(length - 1) * 3 + text.charCodeAt(length >> 1) + cap + kind * 13) & (MEMO_SLOTS - 1);
}

/** Redact then neutralise, with the raw input bounded first (see rawLimit); recent results remembered. */
function redactBounded(text: string, cap: number, kind: Kind, context: Context): string {
  if (text.length === 0 || text.length > MEMO_MAX_LENGTH || !Object.isFrozen(context.policy)) return redactBoundedNow(text, cap, kind, context);
  const index = memoIndex(text, cap, kind);
  const slot = memo[index];
  if (slot !== undefined && slot.text === text && slot.cap === cap && slot.kind === kind && slot.policy === context.policy) return slot.out;
  const out = redactBoundedNow(text, cap, kind, context);
  memo[index] = { text, cap, kind, policy: context.policy, out };
  return out;
}

function redactBoundedNow(text: string, cap: number, kind: Kind, context: Context): string {
  const limit = rawLimit(cap);
  if (text.length <= limit) return neutralise(redact(text, kind, context), cap);
  const cut = safeCutPoint(text, limit);
  return neutraliseCut(redact(text.slice(0, cut), kind, context), cap, text.length - cut);
}

/** An identifier-like field: redacted by value (no digests: ids may be hex), neutralised, capped. */
function idField(value: unknown, cap: number, context: Context): string | undefined {
  const text = asText(value);
  return text === undefined ? undefined : redactBounded(text, cap, Kind.Id, context);
}

/** Free text (description, reason, detail): digests go too, since SQL errors quote password hashes. */
function textField(value: string, cap: number, context: Context): string {
  return redactBounded(value, cap, Kind.Text, context);
}

const WHO_KEYS = ['userId', 'emailId', 'emailMasked', 'role', 'ip', 'forwardedFor', 'userAgent'] as const;

function whoCap(key: keyof Who, limits: EventFieldLimits): number {
  return key === 'userAgent' ? limits.userAgent : key === 'forwardedFor' ? limits.forwardedFor : limits.short;
}

function sanitizeWho(who: Who | undefined, context: Context): Who {
  const out: Who = {};
  if (who === undefined || who === null) return out;
  for (const key of WHO_KEYS) {
    const raw = who[key];
    if (raw === undefined || raw === null) continue;
    const value = idField(raw, whoCap(key, context.limits), context);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function sanitizeWhere(where: Where | undefined, context: Context): Where {
  const out: Where = {};
  if (where === undefined || where === null) return out;
  const { short, route, url } = context.limits;
  const method = idField(where.method, short, context);
  if (method !== undefined) out.method = method;
  const routeText = idField(where.route, route, context);
  if (routeText !== undefined) out.route = routeText;
  const urlText = asText(where.url);
  if (urlText !== undefined) out.url = redactBounded(urlText, url, Kind.Url, context);
  const requestId = idField(where.requestId, short, context);
  if (requestId !== undefined) out.requestId = requestId;
  if (typeof where.status === 'number') out.status = where.status;
  return out;
}

function setKey(target: Record<string, DetailValue>, key: string, value: DetailValue): void {
  // A "__proto__" key stays data and never becomes the prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function sanitizeDetail(detail: Record<string, DetailValue> | undefined, context: Context): Record<string, DetailValue> {
  const out: Record<string, DetailValue> = {};
  if (detail === undefined || detail === null) return out;
  const { detailKey, detailValue, detailKeys } = context.limits;
  const keys = Object.keys(detail);
  const kept = Math.min(keys.length, detailKeys);
  for (let index = 0; index < kept; index += 1) {
    const key = keys[index];
    const value = detail[key] as unknown;
    const safeKey = redactBounded(key, detailKey, Kind.Id, context);
    let safeValue: DetailValue;
    if (value === null || value === undefined || typeof value === 'boolean') {
      safeValue = value === undefined ? null : value;
    } else if (isSensitiveKey(key, context.policy)) {
      safeValue = context.policy.replacement;
    } else if (typeof value === 'number') {
      safeValue = value;
    } else {
      safeValue = textField(typeof value === 'string' ? value : String(value), detailValue, context);
    }
    setKey(out, safeKey, safeValue);
  }
  if (keys.length > kept) setKey(out, '…', `[+${keys.length - kept} keys]`);
  return out;
}

/**
 * A new event with every string redacted then neutralised and capped: who, where (the URL through
 * `redactUrl`), reason, description, detail keys and values (values of sensitive detail keys become
 * `[REDACTED]`). Numbers, booleans and null stay. The input is not changed. Fields that are not part of
 * AuditEvent are not copied.
 */
export function sanitizeEvent(
  event: AuditEvent,
  policy: RedactionPolicy = DEFAULT_REDACTION,
  limits: EventFieldLimits = DEFAULT_EVENT_LIMITS,
): AuditEvent {
  const context: Context = { policy, limits, digestsInText: policy.values.digestsInText };
  const { short } = limits;
  const out: AuditEvent = {
    type: neutralise(event.type, short) as AuditEvent['type'],
    level: neutralise(event.level, short) as AuditEvent['level'],
    severity: event.severity,
    time: neutralise(String(event.time), short),
    seq: event.seq,
    instance: neutralise(String(event.instance), short),
    app: neutralise(String(event.app), short),
    host: neutralise(String(event.host), short),
    outcome: neutralise(event.outcome, short) as AuditEvent['outcome'],
    description: textField(String(event.description), limits.description, context),
    who: sanitizeWho(event.who, context),
    where: sanitizeWhere(event.where, context),
    detail: sanitizeDetail(event.detail, context),
  };
  if (event.reason !== undefined && event.reason !== null) out.reason = textField(String(event.reason), limits.reason, context);
  return out;
}
