import type { AuditEvent } from '../events';
import { QUERY_COLUMNS, QUERY_COLUMN_INDEXES, decodeContent, type ColumnValue } from './chain';
import type { RowPacker } from './packed-rows';
import { structuredDataText, type ReceivedFrame } from './parse';
import type { CollectedRecord, RecordFlag, RecordFormat, Transport } from './record';
import { parseStructuredData } from './structured-data';

/** A row of `events` as better-sqlite3 returns it: the record as canonical content, and the query columns. */
export interface EventRow {
  id: number;
  received_at: string;
  format: string;
  severity: number | null;
  host: string | null;
  event_type: string | null;
  source_id: number | null;
  seq: number | null;
  user_id: string | null;
  email_id: string | null;
  ip: string | null;
  content: string;
  prev_hash: Buffer;
  hash: Buffer;
}

/**
 * A string SQLite stores and gives back unchanged: lone surrogates (a JSON `\ud800` in an event) become
 * U+FFFD here rather than in SQLite, so the hash covers what is stored and a source key matches its row.
 */
export function wellFormed(value: string): string {
  return (value as string & { isWellFormed(): boolean; toWellFormed(): string }).isWellFormed()
    ? value
    : (value as string & { toWellFormed(): string }).toWellFormed();
}

function optional(value: string | undefined): string | null {
  return value === undefined || typeof value !== 'string' ? null : wellFormed(value);
}

/** The hashed column values of a record, in EVENT_COLUMNS order. */
export function recordValues(record: CollectedRecord, sourceId: number | null): ColumnValue[] {
  const event: AuditEvent | undefined = record.event;
  return [
    record.id,
    record.receivedAt,
    record.transport,
    record.peer,
    record.format,
    record.facility ?? null,
    record.severity ?? null,
    record.timestamp ?? null,
    record.host ?? null,
    record.app ?? null,
    record.procId ?? null,
    record.msgId ?? null,
    structuredDataText(record) ?? null,
    record.message,
    record.flags === undefined ? null : record.flags.join(','),
    event === undefined ? null : event.type,
    event === undefined ? null : event.time,
    sourceId,
    event === undefined ? null : event.seq,
    optional(event?.who.userId),
    optional(event?.who.emailId),
    optional(event?.who.ip),
  ];
}

/** Write a record as the next packed row (its canonical content, chained): see packed-rows.ts. Returns its hash (undefined when the packer chains later). */
export function packRecord(packer: RowPacker, record: CollectedRecord, sourceId: number | null): Buffer | undefined {
  packer.beginRow();
  for (const value of recordValues(record, sourceId)) {
    if (typeof value === 'number') packer.integer(value);
    else packer.string(value);
  }
  return packer.endRow();
}

/** Length in UTF-16 units of the text that valid UTF-8 bytes decode to. */
function utf16Length(data: Uint8Array, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const byte = data[i];
    // Every byte but a continuation byte starts a character; one of four bytes is a surrogate pair.
    if ((byte & 0xc0) !== 0x80) units += byte >= 0xf0 ? 2 : 1;
  }
  return units;
}

/**
 * Write an RFC 5424 frame as the next packed row, copying its header, SD and MSG bytes as they are: the row
 * is byte for byte the one packRecord writes for `frame.toRecord()` (decoded text where bytes were invalid).
 */
export function packFrame(packer: RowPacker, frame: ReceivedFrame, id: number, sourceId: number | null): Buffer | undefined {
  const { data, origin, layout, event } = frame;
  packer.beginRow();
  packer.integer(id);
  packer.origin(origin.receivedAt, origin.transport, origin.peer, 'rfc5424');
  packer.integer(layout.facility);
  packer.integer(layout.severity);
  const fields = layout.fields;
  for (let index = 0; index < 10; index += 2) {
    const start = fields[index];
    if (start < 0) packer.null();
    else packer.utf8Bytes(data, start, fields[index + 1], true, 0);
  }
  if (layout.sdStart < 0) packer.null();
  else if (!layout.sdNonAscii) packer.utf8Bytes(data, layout.sdStart, layout.sdEnd, true, 0);
  else if (layout.sdValid) packer.utf8Bytes(data, layout.sdStart, layout.sdEnd, false, utf16Length(data, layout.sdStart, layout.sdEnd));
  else packer.string(frame.sdText() ?? null);
  const message = frame.message;
  if (frame.messageValid) {
    const bytes = data.length - layout.messageStart;
    packer.utf8Bytes(data, layout.messageStart, data.length, bytes === message.length, message.length);
  } else {
    packer.string(message);
  }
  packer.string(frame.flags === undefined ? null : frame.flags.join(','));
  packer.string(event === undefined ? null : event.type);
  packer.string(event === undefined ? null : event.time);
  if (sourceId === null) packer.null();
  else packer.integer(sourceId);
  if (event === undefined) {
    packer.null();
    packer.null();
    packer.null();
    packer.null();
  } else {
    packer.integer(event.seq);
    packer.string(optional(event.who.userId));
    packer.string(optional(event.who.emailId));
    packer.string(optional(event.who.ip));
  }
  return packer.endRow();
}

/** The hashed column values of a stored row, in EVENT_COLUMNS order; undefined when its content is damaged. */
export function rowValues(row: EventRow): ColumnValue[] | undefined {
  return typeof row.content === 'string' ? decodeContent(row.content) : undefined;
}

/** Where the query columns of a row disagree with its content (edited apart from it): their names. */
export function columnsAtOdds(row: EventRow, values: readonly ColumnValue[]): string[] {
  const odd: string[] = [];
  if (values[0] !== row.id) odd.push('id');
  for (let i = 0; i < QUERY_COLUMNS.length; i++) {
    const name = QUERY_COLUMNS[i];
    if (row[name] !== values[QUERY_COLUMN_INDEXES[i]]) odd.push(name);
  }
  return odd;
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/**
 * The record a stored row holds. A row whose content no longer reads (edited outside the collector) is still
 * shown, as a raw record of what is there, flagged `damaged`: a query never hides a tampered row.
 */
export function rowToRecord(row: EventRow): CollectedRecord {
  const values = rowValues(row);
  if (values !== undefined) return recordFromValues(values);
  return {
    id: row.id,
    receivedAt: String(row.received_at),
    transport: 'tcp',
    peer: '',
    format: 'raw',
    message: String(row.content),
    flags: ['damaged'],
  };
}

const SD_TEXT = Symbol('sdText');
type LazyRecord = CollectedRecord & { [SD_TEXT]: string };

function defineSd(record: CollectedRecord, value: CollectedRecord['sd']): void {
  Object.defineProperty(record, 'sd', { value, writable: true, enumerable: true, configurable: true });
}

/**
 * `record.sd` as an own enumerable property parsed from the stored text when first read, then a plain one:
 * most listeners (the detector) never read it, and parsing it costs more than the rest of the record.
 */
const LAZY_SD: PropertyDescriptor = {
  get(this: LazyRecord) {
    const sd = parseStructuredData(this[SD_TEXT]);
    defineSd(this, sd);
    return sd;
  },
  set(this: CollectedRecord, value: CollectedRecord['sd']) {
    defineSd(this, value);
  },
  enumerable: true,
  configurable: true,
};

/**
 * The record a row holds, from its column values (EVENT_COLUMNS order): what queries return, and what
 * listeners get after the commit (read back from the committed batch), so both are the same. `parsedEvent`:
 * the event MSG holds, when it was already read from it.
 */
export function recordFromValues(values: readonly ColumnValue[], parsedEvent?: AuditEvent): CollectedRecord {
  const record: CollectedRecord = {
    id: values[0] as number,
    receivedAt: values[1] as string,
    transport: values[2] as Transport,
    peer: values[3] as string,
    format: values[4] as RecordFormat,
    message: values[13] as string,
  };
  if (values[5] !== null) record.facility = values[5] as number;
  if (values[6] !== null) record.severity = values[6] as number;
  if (values[7] !== null) record.timestamp = values[7] as string;
  if (values[8] !== null) record.host = values[8] as string;
  if (values[9] !== null) record.app = values[9] as string;
  if (values[10] !== null) record.procId = values[10] as string;
  if (values[11] !== null) record.msgId = values[11] as string;
  if (values[12] !== null) {
    Object.defineProperty(record, SD_TEXT, { value: values[12] });
    Object.defineProperty(record, 'sd', LAZY_SD);
  }
  if (values[15] !== null) {
    const event = parsedEvent ?? parseJson<AuditEvent>(record.message);
    if (event !== undefined) record.event = event;
  }
  if (values[14] !== null) record.flags = (values[14] as string).split(',') as RecordFlag[];
  return record;
}
