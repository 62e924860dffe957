import { eventProblems, type AuditEvent } from '../events';
import type { CollectedRecord, RecordFlag, Transport } from './record';
import { parseRfc3164 } from './rfc3164';
import { parseRfc5424 } from './rfc5424';
import { formatStructuredData } from './structured-data';
import { decodeText, parsePri, type ParsedMessage } from './syntax';

/** The SD-ID that marks our own events (a09 under the IANA private enterprise number the project uses). */
export const A09_SD_ID = 'a09@32473';

export interface FrameOrigin {
  receivedAt: string;
  transport: Transport;
  peer: string;
  /** The framer cut the frame (cap or incomplete): it is kept raw, never parsed into an event. */
  truncated: boolean;
}

// The STRUCTURED-DATA text as received, for the store, without widening CollectedRecord.
const receivedSd = new WeakMap<CollectedRecord, string>();

/** A record's STRUCTURED-DATA as text: as received when it was parsed here, else formatted from record.sd. */
export function structuredDataText(record: CollectedRecord): string | undefined {
  if (record.sd === undefined) return undefined;
  return receivedSd.get(record) ?? formatStructuredData(record.sd);
}

/** What parsing noticed, for the rejection counters. */
export interface ParseNotes {
  unparseable: boolean;
  invalidUtf8: boolean;
  invalidEvent: boolean;
}

function syntax(data: Buffer): ParsedMessage | undefined {
  const pri = parsePri(data);
  if (pri === undefined) return undefined;
  // `<PRI>1 ` is RFC 5424; broken RFC 5424 is raw rather than guessed at as RFC 3164.
  if (data[pri.end] === 0x31 && data[pri.end + 1] === 0x20) return parseRfc5424(data, pri);
  return parseRfc3164(data, pri);
}

/**
 * The source identity of an event must fit what a header carries (RFC 5424 HOSTNAME 255, APP-NAME 48; the
 * instance is a UUID): (host, instance) keys the sequence tracking, and a sender must not make a key of
 * 200 KB, ten thousand times over.
 */
function identityFits(event: AuditEvent): boolean {
  return event.host.length <= 255 && event.app.length <= 48 && event.instance.length <= 128;
}

/** MSG as a complete AuditEvent, or undefined. */
function auditEvent(message: string): AuditEvent | undefined {
  if (message.charCodeAt(0) !== 0x7b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const candidate = value as AuditEvent;
  try {
    return eventProblems(candidate).length === 0 && identityFits(candidate) ? candidate : undefined;
  } catch {
    return undefined;
  }
}

/** One frame as a record (id 0, not stored yet). Never throws: what cannot be parsed is kept raw. */
export function recordFromFrame(data: Buffer, origin: FrameOrigin, notes?: ParseNotes): CollectedRecord {
  const flags: RecordFlag[] = [];
  if (notes !== undefined) {
    notes.unparseable = false;
    notes.invalidUtf8 = false;
    notes.invalidEvent = false;
  }
  const parsed = origin.truncated ? undefined : syntax(data);
  let record: CollectedRecord;
  if (parsed === undefined) {
    const decoded = decodeText(data, 0, data.length);
    record = { id: 0, receivedAt: origin.receivedAt, transport: origin.transport, peer: origin.peer, format: 'raw', message: decoded.text };
    if (origin.truncated) flags.push('truncated');
    if (!decoded.valid) flags.push('invalid_utf8');
    if (notes !== undefined) {
      notes.unparseable = true;
      notes.invalidUtf8 = !decoded.valid;
    }
  } else {
    record = {
      id: 0,
      receivedAt: origin.receivedAt,
      transport: origin.transport,
      peer: origin.peer,
      format: parsed.format,
      facility: parsed.facility,
      severity: parsed.severity,
      message: parsed.message,
    };
    if (parsed.timestamp !== undefined) record.timestamp = parsed.timestamp;
    if (parsed.host !== undefined) record.host = parsed.host;
    if (parsed.app !== undefined) record.app = parsed.app;
    if (parsed.procId !== undefined) record.procId = parsed.procId;
    if (parsed.msgId !== undefined) record.msgId = parsed.msgId;
    if (parsed.sd !== undefined) {
      record.sd = parsed.sd;
      if (parsed.sdText !== undefined) receivedSd.set(record, parsed.sdText);
    }
    if (parsed.invalidUtf8) flags.push('invalid_utf8');
    if (notes !== undefined) notes.invalidUtf8 = parsed.invalidUtf8;
    if (parsed.sd !== undefined && Object.prototype.hasOwnProperty.call(parsed.sd, A09_SD_ID)) {
      const event = auditEvent(parsed.message);
      if (event === undefined) {
        flags.push('invalid_event');
        if (notes !== undefined) notes.invalidEvent = true;
      } else {
        record.event = event;
      }
    }
  }
  if (flags.length > 0) record.flags = flags;
  return record;
}
