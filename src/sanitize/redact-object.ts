/**
 * CWE-532 in structured data (request bodies, headers, token payloads, error objects): sensitive keys by
 * name at any depth, every string by value. A deep copy; the input is never changed.
 */
import { DEFAULT_REDACTION, RedactionPolicy, isSensitiveKey } from './policy';
import { redactString } from './redact-string';

export interface RedactObjectOptions {
  /** Also redact 32/40/64-hex digests in strings (token payloads, error text). */
  digests?: boolean;
}

interface Walk {
  readonly policy: RedactionPolicy;
  readonly digests: boolean;
  readonly ancestors: object[];
}

function setKey(target: Record<string, unknown>, key: string, value: unknown): void {
  // A "__proto__" key from parsed input stays data and never becomes the prototype.
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/** What a sensitive key's value becomes: booleans and null carry no secret and stay for the analyst. */
function redactSensitive(value: unknown, replacement: string): unknown {
  if (value === null || value === undefined || typeof value === 'boolean') return value;
  return replacement;
}

function redactKey(key: string, walk: Walk): string {
  return redactString(key, walk.policy);
}

function copy(value: unknown, depth: number, walk: Walk): unknown {
  if (typeof value === 'string') return redactString(value, walk.policy, { digests: walk.digests });
  if (typeof value !== 'object' || value === null) return value;
  if (walk.ancestors.includes(value)) return '[Circular]';
  if (depth >= walk.policy.limits.maxDepth) return '[Truncated]';
  if (value instanceof Date) return new Date(value.getTime());
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return `[Binary ${value.byteLength} bytes]`;
  walk.ancestors.push(value);
  try {
    if (Array.isArray(value)) return copyArray(value, depth, walk);
    if (value instanceof Map) return copyMap(value, depth, walk);
    if (value instanceof Set) return new Set(copyArray([...value], depth, walk));
    return copyObject(value, depth, walk);
  } finally {
    walk.ancestors.pop();
  }
}

function copyArray(items: readonly unknown[], depth: number, walk: Walk): unknown[] {
  const limit = walk.policy.limits.maxArrayLength;
  const kept = Math.min(items.length, limit);
  const out: unknown[] = new Array(kept);
  for (let index = 0; index < kept; index += 1) out[index] = copy(items[index], depth + 1, walk);
  if (items.length > kept) out.push(`[+${items.length - kept} items]`);
  return out;
}

function copyMap(map: Map<unknown, unknown>, depth: number, walk: Walk): Map<unknown, unknown> {
  const out = new Map<unknown, unknown>();
  for (const [key, item] of map) {
    if (out.size >= walk.policy.limits.maxKeys) break;
    const sensitive = typeof key === 'string' && isSensitiveKey(key, walk.policy);
    const newKey = typeof key === 'string' ? redactKey(key, walk) : key;
    out.set(newKey, sensitive ? redactSensitive(item, walk.policy.replacement) : copy(item, depth + 1, walk));
  }
  return out;
}

function copyObject(object: object, depth: number, walk: Walk): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const source = object as Record<string, unknown>;
  if (object instanceof Error) {
    // Errors keep name, message and stack (non-enumerable, so a plain copy would lose them); all are text.
    out.name = copy(object.name, depth + 1, walk);
    out.message = copy(object.message, depth + 1, walk);
    if (typeof object.stack === 'string') out.stack = copy(object.stack, depth + 1, walk);
  }
  const keys = Object.keys(object);
  const limit = Math.min(keys.length, walk.policy.limits.maxKeys);
  for (let index = 0; index < limit; index += 1) {
    const key = keys[index];
    const item = source[key];
    const value = isSensitiveKey(key, walk.policy) ? redactSensitive(item, walk.policy.replacement) : copy(item, depth + 1, walk);
    setKey(out, redactKey(key, walk), value);
  }
  if (keys.length > limit) setKey(out, '…', `[+${keys.length - limit} keys]`);
  return out;
}

/**
 * A deep copy of `value` with sensitive keys' values replaced (`[REDACTED]`; booleans and null kept) and
 * every string redacted by value. Objects deeper than the policy's maxDepth become "[Truncated]", cycles
 * "[Circular]", binary data "[Binary N bytes]", Errors plain `{ name, message, stack, ... }`; arrays and
 * objects past the size limits end with a count of what was left out. The result has the input's shape,
 * not always its exact types (a redacted number is a string).
 */
export function redactObject<T>(value: T, policy: RedactionPolicy = DEFAULT_REDACTION, options: RedactObjectOptions = {}): T {
  return copy(value, 0, { policy, digests: options.digests === true, ancestors: [] }) as T;
}

/**
 * A decoded JWT payload made fit for a log: Juice Shop's carries `data.password` (an MD5), `totpSecret`,
 * `deluxeToken`. Sensitive keys go, and so does any 32/40/64-hex digest under any key.
 */
export function redactTokenPayload(payload: Record<string, unknown>, policy: RedactionPolicy = DEFAULT_REDACTION): Record<string, unknown> {
  return redactObject(payload, policy, { digests: true });
}
