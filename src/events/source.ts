import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { AuditEvent, EventInput, Who } from './event';
import { maskEmail, pseudonymiseEmail } from './identity';
import { assertEventComplete } from './schema';
import { VOCABULARY } from './vocabulary';

export interface EventSourceOptions {
  /** APP-NAME in syslog; default `juice-shop`. */
  app?: string;
  /** HOSTNAME in syslog; default the machine's host name. */
  host?: string;
  /** Key for pseudonymising emails. Without one, a random key per process: links events within a run only. */
  hmacKey?: string | Buffer;
  /** Defaults to a fresh UUID: a restarted process is a new source with its own seq from 1. */
  instance?: string;
  /** Start after this seq (a restored source); default 0. */
  lastSeq?: number;
}

/** Emails whose pseudonym is remembered (login failures repeat the same few): bounded, since clients choose them. */
const IDENTITY_CACHE_SIZE = 1024;
/** Longer emails are not remembered: an attacker can send endless distinct long ones. */
const IDENTITY_CACHE_MAX_LENGTH = 256;

/** `new Date().toISOString()`, computed once per millisecond: a request's events share their millisecond. */
let clockMs = -1;
let clockIso = '';
function clockNow(): string {
  const now = Date.now();
  if (now !== clockMs) {
    clockMs = now;
    clockIso = new Date(now).toISOString();
  }
  return clockIso;
}

/**
 * The fields of `who` an event carries, copied one by one onto a fresh literal: events with the same fields
 * share a hidden class. `{ ...who }` followed by the email's fields gave every event a hidden class of its
 * own, and each later read of `who` (the checks here, the shipping thread) missed V8's inline caches.
 */
function copyWho(from: Who | undefined): Who {
  const who: Who = {};
  if (from === undefined) return who;
  if (from.userId !== undefined) who.userId = from.userId;
  if (from.emailId !== undefined) who.emailId = from.emailId;
  if (from.emailMasked !== undefined) who.emailMasked = from.emailMasked;
  if (from.role !== undefined) who.role = from.role;
  if (from.ip !== undefined) who.ip = from.ip;
  if (from.forwardedFor !== undefined) who.forwardedFor = from.forwardedFor;
  if (from.userAgent !== undefined) who.userAgent = from.userAgent;
  return who;
}

/**
 * Where events are born: stamps each with when, who it came from (instance, app, host) and the next seq,
 * pseudonymises the email it was given, and refuses an event that lacks what an investigator needs.
 */
export class EventSource {
  readonly app: string;
  readonly host: string;
  readonly instance: string;
  private readonly hmacKey: string | Buffer;
  private seq: number;
  /** email -> its pseudonym and mask: an HMAC per event costs more than the rest of the event. */
  private readonly identities = new Map<string, Readonly<Required<Pick<Who, 'emailId' | 'emailMasked'>>>>();

  constructor(options: EventSourceOptions = {}) {
    this.app = options.app ?? 'juice-shop';
    this.host = options.host ?? hostname();
    this.instance = options.instance ?? randomUUID();
    this.hmacKey = options.hmacKey ?? randomUUID();
    this.seq = options.lastSeq ?? 0;
  }

  /** The seq of the last event created. */
  get lastSeq(): number {
    return this.seq;
  }

  /** Pseudonym and mask for an email, as events carry them. */
  identify(email: string): Pick<Who, 'emailId' | 'emailMasked'> {
    const known = this.identity(email);
    return { emailId: known.emailId, emailMasked: known.emailMasked };
  }

  /** The remembered (shared, read-only) pseudonym and mask of an email. */
  private identity(email: string): Readonly<Required<Pick<Who, 'emailId' | 'emailMasked'>>> {
    let known = this.identities.get(email);
    if (known === undefined) {
      known = { emailId: pseudonymiseEmail(email, this.hmacKey), emailMasked: maskEmail(email) };
      if (email.length <= IDENTITY_CACHE_MAX_LENGTH) {
        // Oldest first out (a Map keeps insertion order); hits do not refresh: cheap, and good enough here.
        if (this.identities.size >= IDENTITY_CACHE_SIZE) this.identities.delete(this.identities.keys().next().value as string);
        this.identities.set(email, known);
      }
    }
    return known;
  }

  /**
   * Build a complete event. Throws EventSchemaError (before taking a seq, so no gap follows) when a
   * required field is missing.
   */
  create(input: EventInput): AuditEvent {
    const info = VOCABULARY[input.type];
    const who = copyWho(input.who);
    if (input.email !== undefined) {
      const known = this.identity(input.email);
      who.emailId = known.emailId;
      who.emailMasked = known.emailMasked;
    }
    const event: AuditEvent = {
      type: input.type,
      level: input.level ?? info.level,
      severity: input.severity ?? info.severity,
      time: input.at === undefined ? clockNow() : input.at.toISOString(),
      seq: this.seq + 1,
      instance: this.instance,
      app: this.app,
      host: this.host,
      outcome: input.outcome,
      description: input.description ?? info.summary,
      who,
      where: { ...input.where },
      detail: { ...input.detail },
    };
    if (input.reason !== undefined) event.reason = input.reason;
    assertEventComplete(event, input.at === undefined);
    this.seq = event.seq;
    return event;
  }
}
