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
  const json = JSON.stringify(walk(value, 0, context) ?? null);
  return NON_ASCII.test(json) ? json.replace(NON_ASCII_ALL, asciiEscape) : json;
}
