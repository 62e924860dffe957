import { OUTCOMES, type AuditEvent } from './event';
import { VOCABULARY, isEventType } from './vocabulary';

/** Thrown when an event lacks what an investigator needs (CWE-223): a bug, never sent as is. */
export class EventSchemaError extends Error {
  constructor(
    readonly problems: readonly string[],
    readonly eventType: string,
  ) {
    super(`audit event ${eventType} is incomplete: ${problems.join('; ')}`);
    this.name = 'EventSchemaError';
  }
}

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
// Module constants: this runs for every event, and array literals in the body were allocated per call.
const REQUIRED_TEXT = ['instance', 'app', 'host', 'description'] as const;
const LEVELS: readonly string[] = ['INFO', 'WARN', 'CRITICAL'];

function nonEmpty(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0;
}

/**
 * The problems with an event; empty when it is complete. `clockTime`: the time was just read from the clock
 * by the event source (well-formed by construction), so its pattern and date checks are skipped.
 */
export function eventProblems(event: AuditEvent, clockTime = false): string[] {
  const problems: string[] = [];
  if (!isEventType(event.type)) {
    problems.push(`unknown type ${String(event.type)}`);
    return problems;
  }
  const info = VOCABULARY[event.type];
  if (!clockTime && (!ISO_UTC_MS.test(event.time) || Number.isNaN(Date.parse(event.time)))) problems.push('time is not ISO 8601 UTC with milliseconds');
  if (!Number.isSafeInteger(event.seq) || event.seq < 1) problems.push('seq is not a positive integer');
  for (const field of REQUIRED_TEXT) {
    if (!nonEmpty(event[field])) problems.push(`${field} is missing`);
  }
  if (!OUTCOMES.includes(event.outcome)) problems.push('outcome is missing or unknown');
  if (!LEVELS.includes(event.level)) problems.push('level is not INFO, WARN or CRITICAL');
  if (!Number.isInteger(event.severity) || event.severity < 0 || event.severity > 7) problems.push('severity is not 0-7');
  if (typeof event.who !== 'object' || event.who === null) problems.push('who is missing');
  if (typeof event.where !== 'object' || event.where === null) problems.push('where is missing');
  if (typeof event.detail !== 'object' || event.detail === null) problems.push('detail is missing');
  if (problems.length > 0) return problems;
  if (info.requestBound) {
    if (!nonEmpty(event.who.ip)) problems.push('who.ip is missing');
    if (!nonEmpty(event.where.method)) problems.push('where.method is missing');
    if (!nonEmpty(event.where.url) && !nonEmpty(event.where.route)) problems.push('where.url and where.route are missing');
    if (!nonEmpty(event.where.requestId)) problems.push('where.requestId is missing');
  }
  if (info.actorBound && !nonEmpty(event.who.userId) && !nonEmpty(event.who.emailId)) {
    problems.push('who.userId and who.emailId are missing');
  }
  return problems;
}

export function assertEventComplete(event: AuditEvent, clockTime = false): void {
  const problems = eventProblems(event, clockTime);
  if (problems.length > 0) throw new EventSchemaError(problems, String(event.type));
}
