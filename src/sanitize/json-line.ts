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
 * True when `walk` would return a copy that serialises exactly like `value` itself: plain objects and arrays
 * (shallower than maxDepth) of strings that need no neutralising and no cap, finite numbers, booleans, null
 * (and undefined object members, which both omit). Then JSON.stringify runs on the value as it is, with no
 * copy: the common case, a sanitized audit event, allocates nothing but the line.
 */
function isPlainJson(value: unknown, depth: number, context: WalkContext): boolean {
  switch (typeof value) {
    case 'string':
      return value.length <= context.maxLength && !hasUnsafeChars(value);
    case 'number':
      return Number.isFinite(value);
    case 'boolean':
      return true;
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (depth >= context.maxDepth) return false;
  if (Array.isArray(value)) {
    for (const item of value) if (item === undefined || !isPlainJson(item, depth + 1, context)) return false;
    return true;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const record = value as Record<string, unknown>;
  // A toJSON (even one planted on Object.prototype) would serialise something this check never saw.
  if (typeof record.toJSON === 'function') return false;
  for (const key in record) {
    if (!Object.prototype.hasOwnProperty.call(record, key)) continue;
    if (key.length > context.maxLength || hasUnsafeChars(key)) return false;
    const item = record[key];
    if (item !== undefined && !isPlainJson(item, depth + 1, context)) return false;
  }
  return true;
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
  const json = isPlainJson(value, 0, context) ? JSON.stringify(value) : JSON.stringify(walk(value, 0, context) ?? null);
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, asciiEscape) : json;
}
