import { isUtf8 } from 'node:buffer';

/** What the RFC 3164 parser produces: the wire fields of a message, before it becomes a CollectedRecord. */
export interface ParsedMessage {
  format: 'rfc3164';
  facility: number;
  severity: number;
  timestamp?: string;
  host?: string;
  app?: string;
  procId?: string;
  msgId?: string;
  message: string;
  invalidUtf8: boolean;
}

export const SP = 0x20;
const LT = 0x3c;
const GT = 0x3e;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

export function isDigit(byte: number): boolean {
  return byte >= DIGIT_0 && byte <= DIGIT_9;
}

export interface Pri {
  facility: number;
  severity: number;
  /** Index just after `>`. */
  end: number;
}

/** `<PRIVAL>` with PRIVAL 0..191 (1-3 digits); undefined when the frame does not start with one. */
export function parsePri(data: Buffer): Pri | undefined {
  if (data.length < 3 || data[0] !== LT) return undefined;
  let value = 0;
  let pos = 1;
  while (pos < data.length && pos <= 4 && isDigit(data[pos])) {
    value = value * 10 + (data[pos] - DIGIT_0);
    pos++;
  }
  if (pos === 1 || pos > 4 || data[pos] !== GT || value > 191) return undefined;
  return { facility: value >> 3, severity: value & 7, end: pos + 1 };
}

/** UTF-8 text of a byte range; invalid sequences become U+FFFD and are reported. */
export function decodeText(data: Buffer, start: number, end: number): { text: string; valid: boolean } {
  if (end <= start) return { text: '', valid: true };
  const slice = data.subarray(start, end);
  return { text: slice.toString('utf8'), valid: isUtf8(slice) };
}
