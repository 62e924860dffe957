/**
 * A single-pass JSON scanner that reports duplicate object keys, which JSON.parse silently resolves to the
 * last value. Juice Shop's BasketItems route checks the first `BasketId` and inserts the last, so a
 * duplicate is the manipulation itself. Keys are compared after unescaping (`"Basket\u0049d"` is `BasketId`),
 * exactly as JSON.parse would merge them. Grammar per RFC 8259; depth and size are capped.
 */

export interface DuplicateKey {
  /** Where the object sits: `$` for the top level, `$.a[0]` below. */
  path: string;
  key: string;
}

export interface JsonScan {
  valid: boolean;
  /** Why the text is not valid JSON (position included), when it is not. */
  error?: string;
  duplicates: DuplicateKey[];
  /** Every value of every top-level key, in order; objects and arrays as `{}`/`[]` markers. */
  topLevel: Map<string, unknown[]>;
}

export interface JsonScanLimits {
  maxDepth?: number;
  maxLength?: number;
}

class ScanError extends Error {}

const OBJECT_MARKER = Object.freeze({});
const ARRAY_MARKER = Object.freeze([]);

export function scanJson(text: string, limits: JsonScanLimits = {}): JsonScan {
  const maxDepth = limits.maxDepth ?? 64;
  const maxLength = limits.maxLength ?? 1024 * 1024;
  const duplicates: DuplicateKey[] = [];
  const topLevel = new Map<string, unknown[]>();
  if (text.length > maxLength) return { valid: false, error: `longer than ${maxLength} characters`, duplicates, topLevel };
  let pos = 0;

  const fail = (what: string): never => {
    throw new ScanError(`${what} at ${pos}`);
  };
  const skipWhitespace = (): void => {
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) pos++;
      else break;
    }
  };

  /** Reads a string token; returns its decoded value. */
  const readString = (): string => {
    const start = pos;
    pos++; // opening quote
    let simple = true;
    while (pos < text.length) {
      const c = text.charCodeAt(pos);
      if (c === 0x22) {
        pos++;
        const raw = text.slice(start, pos);
        return simple ? raw.slice(1, -1) : (JSON.parse(raw) as string);
      }
      if (c < 0x20) fail('control character in string');
      if (c === 0x5c) {
        simple = false;
        const next = text[pos + 1];
        if (next === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(pos + 2, pos + 6))) fail('bad unicode escape');
          pos += 6;
        } else if (next !== undefined && '"\\/bfnrt'.includes(next)) pos += 2;
        else fail('bad escape');
      } else pos++;
    }
    return fail('unterminated string');
  };

  const readNumber = (): number => {
    const start = pos;
    if (text[pos] === '-') pos++;
    if (text[pos] === '0') pos++;
    else if (text[pos] !== undefined && text[pos]! >= '1' && text[pos]! <= '9') {
      while (text[pos] !== undefined && text[pos]! >= '0' && text[pos]! <= '9') pos++;
    } else fail('bad number');
    if (text[pos] === '.') {
      pos++;
      const digitsAt = pos;
      while (text[pos] !== undefined && text[pos]! >= '0' && text[pos]! <= '9') pos++;
      if (pos === digitsAt) fail('bad fraction');
    }
    if (text[pos] === 'e' || text[pos] === 'E') {
      pos++;
      if (text[pos] === '+' || text[pos] === '-') pos++;
      const digitsAt = pos;
      while (text[pos] !== undefined && text[pos]! >= '0' && text[pos]! <= '9') pos++;
      if (pos === digitsAt) fail('bad exponent');
    }
    return Number(text.slice(start, pos));
  };

  const readLiteral = (word: string, value: unknown): unknown => {
    if (text.startsWith(word, pos)) {
      pos += word.length;
      return value;
    }
    return fail('unexpected token');
  };

  const readValue = (depth: number, path: string): unknown => {
    skipWhitespace();
    const c = text[pos];
    if (c === '{') return readObject(depth + 1, path);
    if (c === '[') return readArray(depth + 1, path);
    if (c === '"') return readString();
    if (c === 't') return readLiteral('true', true);
    if (c === 'f') return readLiteral('false', false);
    if (c === 'n') return readLiteral('null', null);
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) return readNumber();
    return fail(c === undefined ? 'unexpected end' : 'unexpected token');
  };

  const readObject = (depth: number, path: string): unknown => {
    if (depth > maxDepth) fail('nested too deep');
    pos++; // {
    const seen = new Set<string>();
    const reported = new Set<string>();
    skipWhitespace();
    if (text[pos] === '}') {
      pos++;
      return OBJECT_MARKER;
    }
    for (;;) {
      skipWhitespace();
      if (text[pos] !== '"') fail('expected key');
      const key = readString();
      skipWhitespace();
      if (text[pos] !== ':') fail('expected colon');
      pos++;
      const value = readValue(depth, `${path}.${key}`);
      if (seen.has(key)) {
        if (!reported.has(key)) duplicates.push({ path, key });
        reported.add(key);
      } else seen.add(key);
      if (depth === 1) {
        const values = topLevel.get(key);
        if (values === undefined) topLevel.set(key, [value]);
        else values.push(value);
      }
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === '}') {
        pos++;
        return OBJECT_MARKER;
      }
      fail('expected , or }');
    }
  };

  const readArray = (depth: number, path: string): unknown => {
    if (depth > maxDepth) fail('nested too deep');
    pos++; // [
    skipWhitespace();
    if (text[pos] === ']') {
      pos++;
      return ARRAY_MARKER;
    }
    for (let index = 0; ; index++) {
      readValue(depth, `${path}[${index}]`);
      skipWhitespace();
      if (text[pos] === ',') {
        pos++;
        continue;
      }
      if (text[pos] === ']') {
        pos++;
        return ARRAY_MARKER;
      }
      fail('expected , or ]');
    }
  };

  try {
    readValue(0, '$');
    skipWhitespace();
    if (pos !== text.length) fail('trailing characters');
    return { valid: true, duplicates, topLevel };
  } catch (error) {
    if (error instanceof ScanError) return { valid: false, error: error.message, duplicates, topLevel };
    throw error;
  }
}

/** True for the markers scanJson puts in `topLevel` for object and array values. */
export function isContainerMarker(value: unknown): boolean {
  return value === OBJECT_MARKER || value === ARRAY_MARKER;
}
