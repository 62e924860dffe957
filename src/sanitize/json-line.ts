/**
 * A JSON sink encoder: one line of pure printable ASCII that any JSON parser reads back.
 */
import { capNeutralised, hasUnsafeChars, neutralise } from './neutralise';

export interface JsonLineOptions {
  /** Longest string kept (after escaping), with the visible truncation marker. Default 16384. */
  maxStringLength?: number;
  /** Deeper values become "[Truncated]". Default 16. */
  maxDepth?: number;
}

const DEFAULT_JSON_STRING_LENGTH = 16384;
const DEFAULT_JSON_DEPTH = 16;

type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * Strings with a raw control, separator, bidi character or lone surrogate are neutralised; strings without
 * any are only capped. So text that is already neutralised (every string of a sanitized event) goes through
 * unchanged and is not escaped twice: `JSON.parse(toJsonLine(sanitizeEvent(e)))` equals `sanitizeEvent(e)`.
 */
function safeString(value: string, maxLength: number): string {
  if (hasUnsafeChars(value)) return neutralise(value, maxLength);
  return value.length > maxLength ? capNeutralised(value, maxLength) : value;
}

interface WalkContext {
  readonly maxLength: number;
  readonly maxDepth: number;
  readonly ancestors: object[];
}

function setKey(target: { [key: string]: JsonValue }, key: string, value: JsonValue): void {
  // A "__proto__" key from parsed input must stay data, not become the prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function walk(value: unknown, depth: number, context: WalkContext): JsonValue | undefined {
  switch (typeof value) {
    case 'string':
      return safeString(value, context.maxLength);
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'boolean':
      return value;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value === null) return null;
  const object = value as object;
  if (context.ancestors.includes(object)) return '[Circular]';
  if (depth >= context.maxDepth) return '[Truncated]';
  const toJSON = (object as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') {
    let converted: unknown;
    try {
      converted = toJSON.call(object);
    } catch {
      return '[Unserialisable]';
    }
    if (converted !== object) return walk(converted, depth + 1, context);
  }
  context.ancestors.push(object);
  try {
    if (Array.isArray(object)) {
      return object.map((item) => walk(item, depth + 1, context) ?? null);
    }
    const out: { [key: string]: JsonValue } = {};
    if (object instanceof Error) {
      setKey(out, 'name', safeString(object.name, context.maxLength));
      setKey(out, 'message', safeString(object.message, context.maxLength));
      if (typeof object.stack === 'string') setKey(out, 'stack', safeString(object.stack, context.maxLength));
    }
    for (const key of Object.keys(object)) {
      const item = walk((object as Record<string, unknown>)[key], depth + 1, context);
      if (item !== undefined) setKey(out, safeString(key, context.maxLength), item);
    }
    return out;
  } finally {
    context.ancestors.pop();
  }
}

/**
 * True when `walk` would return a structurally equal copy of `value`: plain objects and arrays shallower than
 * maxDepth, strings, finite numbers, booleans, null (undefined object members, which both omit). Strings are
 * not looked at here: the JSON text is checked after (see toJsonLine), which is cheaper than a test per string.
 */
function isPlainJson(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= maxDepth) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (item === undefined || !isPlainJson(item, depth + 1, maxDepth)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  // A toJSON (even one planted on Object.prototype) would serialise something this check never saw.
  if (typeof record.toJSON === 'function') return false;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    const item = record[key];
    if (item !== undefined && !isPlainJson(item, depth + 1, maxDepth)) return false;
  }
  return true;
}

/** Strings (keys too) that walk would leave as they are: nothing to neutralise, nothing to cap. */
function stringsAreSafe(value: unknown, maxLength: number): boolean {
  if (typeof value === 'string') return value.length <= maxLength && !hasUnsafeChars(value);
  if (typeof value !== 'object' || value === null) return true;
  if (Array.isArray(value)) return value.every((item) => stringsAreSafe(item, maxLength));
  for (const key of Object.keys(value)) {
    if (key.length > maxLength || hasUnsafeChars(key) || !stringsAreSafe((value as Record<string, unknown>)[key], maxLength)) return false;
  }
  return true;
}

/**
 * JSON text that needs nothing more: printable ASCII with no escape sequence in it. JSON.stringify escapes
 * every C0 control (and a lone surrogate) with a backslash, so a text without one had none; DEL and
 * everything from U+0080 up (C1, separators, bidi) would show in the byte length or as U+007F. A text no
 * longer than the cap cannot hold a string longer than it.
 */
function isFinishedJson(json: string, maxLength: number): boolean {
  return json.length <= maxLength && json.indexOf('\\') === -1 && json.indexOf('\u007f') === -1 && Buffer.byteLength(json, 'utf8') === json.length;
}

const NON_ASCII = /[\u007f-\uffff]/;
const NON_ASCII_ALL = /[\u007f-\uffff]/g;

function asciiEscape(char: string): string {
  return '\\u' + char.charCodeAt(0).toString(16).padStart(4, '0');
}

/**
 * One-line JSON of `value`: every string (keys too) neutralised as `neutralise` does, every non-ASCII
 * character written as `\uXXXX`, so the line is printable ASCII and JSON.parse reads it back. Never throws:
 * cycles become "[Circular]", bigints strings, values deeper than `maxDepth` "[Truncated]", a throwing
 * toJSON "[Unserialisable]"; undefined at the top gives `null`.
 */
export function toJsonLine(value: unknown, options: JsonLineOptions = {}): string {
  const context: WalkContext = {
    maxLength: options.maxStringLength ?? DEFAULT_JSON_STRING_LENGTH,
    maxDepth: options.maxDepth ?? DEFAULT_JSON_DEPTH,
    ancestors: [],
  };
  let json: string | undefined;
  if (isPlainJson(value, 0, context.maxDepth)) {
    // Serialised as it is, with no copy: the common case, a sanitized audit event, allocates only the line.
    const direct = JSON.stringify(value);
    if (isFinishedJson(direct, context.maxLength)) return direct;
    if (stringsAreSafe(value, context.maxLength)) json = direct;
  }
  json ??= JSON.stringify(walk(value, 0, context) ?? null);
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, asciiEscape) : json;
}
