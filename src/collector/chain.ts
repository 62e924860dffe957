import * as crypto from 'node:crypto';

/**
 * The hash chain over the events table. Each row stores `prev_hash` (the previous row's hash; 32 zero bytes
 * for the first) and `hash` = SHA-256(hex(prev_hash) || canonical content), or HMAC-SHA256 of the same under a
 * chain key when one is configured (then a thief of the file cannot recompute the chain without the key).
 *
 * The canonical content is the row's columns in EVENT_COLUMNS order, exactly as stored (SQLite gives back the
 * same strings and integers), so verify recomputes it from the row alone. Each value is self-delimiting:
 * `~` for NULL, `#<integer>;`, or `<length in UTF-16 units>:<text>`, so nothing is escaped. The store writes
 * the same content as UTF-8 bytes (packed-rows.ts) and hashes those: the digest is the one computed here.
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

/**
 * The columns `events` keeps beside `content` (the whole record as its canonical content, what the hash
 * covers): the ones queries look rows up by, in this order after `id`. Each repeats a value the content
 * holds; verify checks that they still agree with it.
 */
export const QUERY_COLUMNS = ['received_at', 'format', 'severity', 'host', 'event_type', 'source_id', 'seq', 'user_id', 'email_id', 'ip'] as const;

/** Where each of QUERY_COLUMNS sits in EVENT_COLUMNS. */
export const QUERY_COLUMN_INDEXES: readonly number[] = QUERY_COLUMNS.map((name) => EVENT_COLUMNS.indexOf(name));

/** Index of `message` in EVENT_COLUMNS. */
export const MESSAGE_INDEX = EVENT_COLUMNS.indexOf('message');

export function canonicalContent(values: readonly ColumnValue[]): string {
  let out = '';
  for (const value of values) {
    if (value === null) out += '~';
    else if (typeof value === 'number') out += `#${value};`;
    else out += `${value.length}:${value}`;
  }
  return out;
}

/**
 * The column values (EVENT_COLUMNS order) canonical content holds; undefined when it is not the content of a
 * row (cut, edited so that a length no longer fits, a value too many or too few): the inverse of canonicalContent.
 */
export function decodeContent(content: string): ColumnValue[] | undefined {
  const values: ColumnValue[] = [];
  let at = 0;
  while (at < content.length) {
    if (values.length === EVENT_COLUMNS.length) return undefined;
    const first = content.charCodeAt(at);
    if (first === 0x7e) {
      values.push(null);
      at++;
      continue;
    }
    const isNumber = first === 0x23;
    const end = content.indexOf(isNumber ? ';' : ':', at);
    if (end < 0) return undefined;
    const digits = content.slice(isNumber ? at + 1 : at, end);
    // What `${value}` writes for an integer (canonicalContent), nothing else: no signs, spaces or exponents slip in.
    if (!/^(0|-?[1-9]\d*)$/.test(digits)) return undefined;
    const number = Number(digits);
    if (!Number.isSafeInteger(number)) return undefined;
    if (isNumber) {
      values.push(number);
      at = end + 1;
    } else {
      if (number < 0 || end + 1 + number > content.length) return undefined;
      values.push(content.slice(end + 1, end + 1 + number));
      at = end + 1 + number;
    }
  }
  return values.length === EVENT_COLUMNS.length ? values : undefined;
}

// One-shot hashing (Node >= 20.12) costs a third less than a Hash object per row; same digest either way.
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: 'buffer') => Buffer }).hash;

export function chainHash(prev: Buffer, content: string, key?: string | Buffer): Buffer {
  const input = prev.toString('hex') + content;
  if (key !== undefined) return crypto.createHmac('sha256', key).update(input).digest();
  if (oneShot !== undefined) return oneShot('sha256', input, 'buffer');
  return crypto.createHash('sha256').update(input).digest();
}
