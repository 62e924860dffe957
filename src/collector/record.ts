import type { AuditEvent } from '../events';

/** How a record reached the collector. */
export type Transport = 'udp' | 'tcp' | 'tls';

/** The wire format it was parsed as; `raw` is a message we could not parse, kept as received. */
export type RecordFormat = 'rfc5424' | 'rfc3164' | 'raw';

/**
 * What the collector noticed about a record it kept anyway (additive, optional):
 * - `truncated`: cut at the frame size cap, or cut short (a lying octet count that timed out, a closed connection);
 * - `invalid_utf8`: bytes that are not UTF-8 were replaced with U+FFFD;
 * - `invalid_event`: it carried SD-ID `a09@32473` but MSG was not a complete AuditEvent (so `event` is unset);
 * - `damaged`: read back from a stored row that was edited outside the collector and no longer reads as a
 *   record (only in query results; `a09-lab verify` says where): `message` is what the row holds, the
 *   transport and peer are unknown.
 */
export type RecordFlag = 'truncated' | 'invalid_utf8' | 'invalid_event' | 'damaged';

/** One received syslog message, parsed as far as it goes. Nothing received is dropped. */
export interface CollectedRecord {
  /** Row id in the store; 0 before it is stored. */
  id: number;
  /** ISO 8601 UTC with milliseconds, the collector's clock. */
  receivedAt: string;
  transport: Transport;
  /** The sender's address (`127.0.0.1:50123`). */
  peer: string;
  format: RecordFormat;
  facility?: number;
  severity?: number;
  /** TIMESTAMP as the sender wrote it. */
  timestamp?: string;
  host?: string;
  app?: string;
  procId?: string;
  msgId?: string;
  /** Structured data: SD-ID -> PARAM-NAME -> PARAM-VALUE (unescaped). */
  sd?: Record<string, Record<string, string>>;
  /** MSG (for raw records: the whole message, invalid UTF-8 replaced). */
  message: string;
  /** Set when the message is one of ours (SD-ID `a09@32473`, MSG a complete AuditEvent as JSON). */
  event?: AuditEvent;
  /** Present only when something was wrong with what arrived. */
  flags?: RecordFlag[];
}

/** A hole in a source's sequence: events from..to (inclusive) never arrived. */
export interface SequenceGap {
  host: string;
  instance: string;
  app: string;
  from: number;
  to: number;
  detectedAt: string;
  /** Set (on the gap reported through `onGapFilled`) when a replay delivered every missing event. */
  filledAt?: string;
}
