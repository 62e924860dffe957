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

/** The number written at `start` (two or four ASCII digits the pattern already checked). */
function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) value = value * 10 + text.charCodeAt(i) - 48;
  return value;
}

/**
 * `YYYY-MM-DDTHH:MM:SS.mmmZ` naming a real instant: a calendar date (no 31 April, 29 February only in leap
 * years) and a time of day up to 23:59:59.999. Stricter than Date.parse, which rolls 31 February over to
 * 3 March and takes 24:00; and cheaper (arithmetic, not the date parser): this runs for every event received.
 */
export function isIsoUtcMs(text: unknown): boolean {
  if (typeof text !== 'string' || !ISO_UTC_MS.test(text)) return false;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (month < 1 || month > 12 || day < 1) return false;
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const monthDays = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return day <= monthDays && digits(text, 11, 2) <= 23 && digits(text, 14, 2) <= 59 && digits(text, 17, 2) <= 59;
}
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
  if (!clockTime && !isIsoUtcMs(event.time)) problems.push('time is not ISO 8601 UTC with milliseconds');
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
