/**
 * A strict RFC 5424 parser for the tests: it follows the ABNF of section 6 and throws on anything else,
 * so a message that parses here is well-formed and its fields are exactly what a conforming receiver sees.
 */

export interface ParsedSyslog {
  pri: number;
  facility: number;
  severity: number;
  version: number;
  timestamp: string | null;
  hostname: string | null;
  appName: string | null;
  procId: string | null;
  msgId: string | null;
  /** SD-ID -> PARAM-NAME -> PARAM-VALUE (unescaped); in order. */
  sd: Array<{ id: string; params: Array<[string, string]> }>;
  msg: string | null;
}

const PRINTUSASCII = /^[\x21-\x7e]+$/;
const SD_NAME = /^[\x21-\x7e]{1,32}$/;
const FULL_TIMESTAMP = /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d{1,6})?(Z|[+-]([01]\d|2[0-3]):[0-5]\d)$/;

class Cursor {
  at = 0;
  constructor(readonly text: string) {}
  fail(what: string): never {
    throw new Error(`RFC 5424: ${what} at ${this.at}: ${JSON.stringify(this.text.slice(this.at, this.at + 40))}`);
  }
  expect(char: string): void {
    if (this.text[this.at] !== char) this.fail(`expected ${JSON.stringify(char)}`);
    this.at++;
  }
  /** Up to the next space (exclusive). */
  token(): string {
    const space = this.text.indexOf(' ', this.at);
    if (space < 0) this.fail('expected a space after a header field');
    const token = this.text.slice(this.at, space);
    this.at = space;
    return token;
  }
}

function headerField(cursor: Cursor, name: string, max: number): string | null {
  const value = cursor.token();
  cursor.expect(' ');
  if (value === '-') return null;
  if (value.length === 0 || value.length > max || !PRINTUSASCII.test(value)) cursor.fail(`bad ${name} ${JSON.stringify(value)}`);
  return value;
}

function sdName(cursor: Cursor, stop: RegExp): string {
  const start = cursor.at;
  while (cursor.at < cursor.text.length && !stop.test(cursor.text[cursor.at])) cursor.at++;
  const name = cursor.text.slice(start, cursor.at);
  if (!SD_NAME.test(name) || /[= \]"]/.test(name)) cursor.fail(`bad SD-NAME ${JSON.stringify(name)}`);
  return name;
}

function paramValue(cursor: Cursor): string {
  cursor.expect('"');
  let value = '';
  for (;;) {
    if (cursor.at >= cursor.text.length) cursor.fail('unterminated PARAM-VALUE');
    const char = cursor.text[cursor.at];
    if (char === '"') {
      cursor.at++;
      return value;
    }
    if (char === ']') cursor.fail('unescaped "]" in PARAM-VALUE');
    if (char === '\\') {
      const next = cursor.text[cursor.at + 1];
      if (next === '"' || next === '\\' || next === ']') {
        value += next;
        cursor.at += 2;
        continue;
      }
    }
    value += char;
    cursor.at++;
  }
}

export function parseRfc5424(message: string): ParsedSyslog {
  const cursor = new Cursor(message);
  cursor.expect('<');
  const priEnd = message.indexOf('>');
  const priText = message.slice(1, priEnd);
  if (!/^(0|[1-9]\d{0,2})$/.test(priText) || Number(priText) > 191) cursor.fail('bad PRI');
  const pri = Number(priText);
  cursor.at = priEnd + 1;
  const versionText = cursor.token();
  if (!/^[1-9]\d{0,2}$/.test(versionText)) cursor.fail('bad VERSION');
  cursor.expect(' ');
  const timestampText = cursor.token();
  cursor.expect(' ');
  if (timestampText !== '-' && !FULL_TIMESTAMP.test(timestampText)) cursor.fail(`bad TIMESTAMP ${timestampText}`);
  const hostname = headerField(cursor, 'HOSTNAME', 255);
  const appName = headerField(cursor, 'APP-NAME', 48);
  const procId = headerField(cursor, 'PROCID', 128);
  const msgIdValue = message.indexOf(' ', cursor.at) < 0 ? cursor.fail('no STRUCTURED-DATA') : cursor.token();
  cursor.expect(' ');
  let msgId: string | null = null;
  if (msgIdValue !== '-') {
    if (msgIdValue.length > 32 || !PRINTUSASCII.test(msgIdValue)) cursor.fail('bad MSGID');
    msgId = msgIdValue;
  }
  const sd: ParsedSyslog['sd'] = [];
  if (message[cursor.at] === '-') {
    cursor.at++;
  } else {
    while (message[cursor.at] === '[') {
      cursor.at++;
      const id = sdName(cursor, /[ \]]/);
      const params: Array<[string, string]> = [];
      while (message[cursor.at] === ' ') {
        cursor.at++;
        const name = sdName(cursor, /=/);
        cursor.expect('=');
        params.push([name, paramValue(cursor)]);
      }
      cursor.expect(']');
      sd.push({ id, params });
    }
    if (sd.length === 0) cursor.fail('expected STRUCTURED-DATA');
  }
  let msg: string | null = null;
  if (cursor.at < message.length) {
    cursor.expect(' ');
    msg = message.slice(cursor.at);
  }
  return {
    pri,
    facility: pri >> 3,
    severity: pri & 7,
    version: Number(versionText),
    timestamp: timestampText === '-' ? null : timestampText,
    hostname,
    appName,
    procId,
    msgId,
    sd,
    msg,
  };
}

export function sdParams(parsed: ParsedSyslog, id: string): Record<string, string> | undefined {
  const element = parsed.sd.find((item) => item.id === id);
  return element === undefined ? undefined : Object.fromEntries(element.params);
}
