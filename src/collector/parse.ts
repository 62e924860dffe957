import { eventProblems, type AuditEvent } from '../events';
import type { CollectedRecord, RecordFlag, Transport } from './record';
import { parseRfc3164 } from './rfc3164';
import { parseRfc5424, type Rfc5424Layout } from './rfc5424';
import { formatStructuredData, parseStructuredData } from './structured-data';
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

/**
 * An RFC 5424 frame as the collector takes it: where its parts lie in the bytes (which the store copies
 * into its row as they are), MSG decoded (to read our event from it), and the event. A CollectedRecord is
 * only built from it when someone asks (recordFromFrame; listeners get theirs read back from the store).
 */
export class ReceivedFrame {
  /** MSG, decoded (invalid UTF-8 replaced). */
  readonly message: string;
  /** MSG is valid UTF-8 (so its bytes are the UTF-8 of `message`). */
  readonly messageValid: boolean;
  /** Set when SD-ID `a09@32473` is present and MSG is a complete AuditEvent. */
  readonly event: AuditEvent | undefined;
  readonly flags: RecordFlag[] | undefined;

  constructor(
    readonly data: Buffer,
    readonly origin: FrameOrigin,
    readonly layout: Rfc5424Layout,
  ) {
    const decoded = decodeText(data, layout.messageStart, data.length);
    this.message = decoded.text;
    this.messageValid = decoded.valid;
    let flags: RecordFlag[] | undefined;
    if (!decoded.valid || !layout.sdValid) flags = ['invalid_utf8'];
    this.event = layout.sdHasA09 ? auditEvent(decoded.text) : undefined;
    if (layout.sdHasA09 && this.event === undefined) (flags ??= []).push('invalid_event');
    this.flags = flags;
  }

  get receivedAt(): string {
    return this.origin.receivedAt;
  }

  /** Header field 0..4 (TIMESTAMP, HOSTNAME, APP-NAME, PROCID, MSGID), undefined when NILVALUE. */
  field(index: number): string | undefined {
    const start = this.layout.fields[index * 2];
    return start < 0 ? undefined : this.data.toString('latin1', start, this.layout.fields[index * 2 + 1]);
  }

  /** STRUCTURED-DATA as text (invalid UTF-8 replaced), undefined when `-`. */
  sdText(): string | undefined {
    const { sdStart, sdEnd, sdNonAscii } = this.layout;
    if (sdStart < 0) return undefined;
    return this.data.toString(sdNonAscii ? 'utf8' : 'latin1', sdStart, sdEnd);
  }

  /** Receipt, PRI and MSG as a record (no header fields, structured data, event or flags). */
  baseRecord(id: number): CollectedRecord {
    const { origin, layout } = this;
    return {
      id,
      receivedAt: origin.receivedAt,
      transport: origin.transport,
      peer: origin.peer,
      format: 'rfc5424',
      facility: layout.facility,
      severity: layout.severity,
      message: this.message,
    };
  }

  toRecord(id = 0): CollectedRecord {
    const record = this.baseRecord(id);
    const names = ['timestamp', 'host', 'app', 'procId', 'msgId'] as const;
    for (let index = 0; index < 5; index++) {
      const value = this.field(index);
      if (value !== undefined) record[names[index]] = value;
    }
    const sdText = this.sdText();
    if (sdText !== undefined) {
      const sd = parseStructuredData(sdText);
      if (sd !== undefined) {
        record.sd = sd;
        receivedSd.set(record, sdText);
      }
    }
    if (this.event !== undefined) record.event = this.event;
    if (this.flags !== undefined) record.flags = [...this.flags];
    return record;
  }
}

function syntax(data: Buffer): Rfc5424Layout | ParsedMessage | undefined {
  const pri = parsePri(data);
  if (pri === undefined) return undefined;
  // `<PRI>1 ` is RFC 5424; broken RFC 5424 is raw rather than guessed at as RFC 3164.
  if (data[pri.end] === 0x31 && data[pri.end + 1] === 0x20) return parseRfc5424(data, pri);
  return parseRfc3164(data, pri);
}

function resetNotes(notes: ParseNotes | undefined): void {
  if (notes === undefined) return;
  notes.unparseable = false;
  notes.invalidUtf8 = false;
  notes.invalidEvent = false;
}

/**
 * One frame as the store takes it: RFC 5424 as a ReceivedFrame (nothing but MSG decoded), anything else as
 * a record (id 0). Never throws: what cannot be parsed is kept raw.
 */
export function parseFrame(data: Buffer, origin: FrameOrigin, notes?: ParseNotes): ReceivedFrame | CollectedRecord {
  resetNotes(notes);
  const parsed = origin.truncated ? undefined : syntax(data);
  if (parsed !== undefined && !('format' in parsed)) {
    const frame = new ReceivedFrame(data, origin, parsed);
    if (notes !== undefined && frame.flags !== undefined) {
      notes.invalidUtf8 = frame.flags.includes('invalid_utf8');
      notes.invalidEvent = frame.flags.includes('invalid_event');
    }
    return frame;
  }
  const flags: RecordFlag[] = [];
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
    // RFC 3164: no structured data, so never one of our events.
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
    if (parsed.invalidUtf8) flags.push('invalid_utf8');
    if (notes !== undefined) notes.invalidUtf8 = parsed.invalidUtf8;
  }
  if (flags.length > 0) record.flags = flags;
  return record;
}

/** One frame as a record (id 0, not stored yet). Never throws: what cannot be parsed is kept raw. */
export function recordFromFrame(data: Buffer, origin: FrameOrigin, notes?: ParseNotes): CollectedRecord {
  const parsed = parseFrame(data, origin, notes);
  return parsed instanceof ReceivedFrame ? parsed.toRecord() : parsed;
}
