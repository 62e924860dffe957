import { createHash, createHmac } from 'node:crypto';

/**
 * The hash chain over the events table. Each row stores `prev_hash` (the previous row's hash; 32 zero bytes
 * for the first) and `hash` = SHA-256(prev_hash || canonical content), or HMAC-SHA256 under a chain key when
 * one is configured (then a thief of the file cannot recompute the chain without the key).
 *
 * The canonical content is the JSON array of the row's columns in EVENT_COLUMNS order, exactly as stored
 * (SQLite gives back the same strings and integers), so verify recomputes it from the row alone.
 */

export const GENESIS_HASH = Buffer.alloc(32);

/** The hashed columns of `events`, in canonical order (`prev_hash` and `hash` follow them in the table). */
export const EVENT_COLUMNS = [
  'id',
  'received_at',
  'transport',
  'peer',
  'format',
  'facility',
  'severity',
  'timestamp',
  'host',
  'app',
  'proc_id',
  'msg_id',
  'sd',
  'message',
  'flags',
  'event_type',
  'event_time',
  'source_id',
  'seq',
  'user_id',
  'email_id',
  'ip',
] as const;

export type ColumnValue = string | number | null;

export function canonicalContent(values: readonly ColumnValue[]): string {
  return JSON.stringify(values);
}

export function chainHash(prev: Buffer, content: string, key?: string | Buffer): Buffer {
  const hash = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  return hash.update(prev).update(content).digest();
}
