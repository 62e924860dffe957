/**
 * RFC 6587 octet counting: `<byte length> <message>`, back to back. The length is counted in bytes of the
 * UTF-8 message, so nothing inside a message (LF, CR LF, U+2028, a forged header) can end it early.
 * One buffer for the whole batch: one socket write, one copy.
 */
export function frameOctetCounted(messages: readonly Buffer[]): Buffer {
  let total = 0;
  for (const message of messages) total += decimalDigits(message.length) + 1 + message.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    at += out.write(`${message.length} `, at, 'latin1');
    at += message.copy(out, at);
  }
  return out;
}

function decimalDigits(value: number): number {
  let digits = 1;
  while (value >= 10) {
    value = Math.floor(value / 10);
    digits++;
  }
  return digits;
}

/**
 * Split an octet-counted stream (what a collector reads). Returns the complete messages and the
 * unconsumed rest; throws on a malformed length (a framing error ends the connection, RFC 6587 3.4.1).
 */
export function parseOctetCounted(data: Buffer): { messages: Buffer[]; rest: Buffer } {
  const messages: Buffer[] = [];
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    if (space < 0) {
      if (data.length - at > 10) throw new Error('octet count too long');
      break;
    }
    const digits = data.toString('latin1', at, space);
    if (!/^[1-9]\d{0,9}$/.test(digits)) throw new Error(`bad octet count ${JSON.stringify(digits.slice(0, 12))}`);
    const length = Number(digits);
    if (data.length < space + 1 + length) break;
    messages.push(data.subarray(space + 1, space + 1 + length));
    at = space + 1 + length;
  }
  return { messages, rest: data.subarray(at) };
}
