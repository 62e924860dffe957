/**
 * CWE-532: which keys and which values must never reach a log. Keys are compared after normalising:
 * lower case, everything but letters and digits removed, so `newPassword`, `password_confirmation`,
 * `X-Api-Key` and `api key` become `newpassword`, `passwordconfirmation`, `xapikey`, `apikey`.
 */

export interface SensitiveKeyRules {
  /** A normalised key equal to one of these is sensitive (short words that would over-match as parts). */
  readonly exact: readonly string[];
  /** A normalised key containing one of these is sensitive. */
  readonly contains: readonly string[];
  /** A normalised key ending with one of these is sensitive (`accessToken`, `csrf-token`, but not `tokenAlg`). */
  readonly suffix: readonly string[];
  /** Normalised keys that are never sensitive, though a rule above matches them (e.g. `passwordChanged`). */
  readonly allow: readonly string[];
}

export interface ValueRules {
  /** JWTs anywhere in a string -> `[REDACTED:jwt]`. */
  readonly jwt: boolean;
  /** `Bearer <token>` -> `[REDACTED:bearer]`. */
  readonly bearer: boolean;
  /** `Basic <base64 of user:password>` -> `[REDACTED:basic]`. */
  readonly basic: boolean;
  /** 13-19 digit card numbers passing Luhn (spaces/dashes between groups allowed) -> `[REDACTED:card]`. */
  readonly card: boolean;
  /** Only numbers whose first digit and length fit a card network (see cards.ts): spares epoch milliseconds. */
  readonly cardIssuerPrefix: boolean;
  /** PEM private key blocks -> `[REDACTED:private-key]`. */
  readonly privateKey: boolean;
  /** `scheme://user:password@host` -> `scheme://user:[REDACTED]@host`. */
  readonly urlPassword: boolean;
  /** `password=x`, `"password":"x"`, `password = 'x'`, `Cookie: ...` inside free text (messages, stacks, SQL). */
  readonly keyValueText: boolean;
  /**
   * 32/40/64 hex digests -> `[REDACTED:digest]` in free text of events (description, reason, detail values:
   * error messages, stacks, SQL), not in ids (who/where). Token payloads always get this.
   */
  readonly digestsInText: boolean;
  /** The same in every string, ids and URLs included. */
  readonly digestsEverywhere: boolean;
}

export interface RedactionLimits {
  /** Objects nested deeper become "[Truncated]". */
  readonly maxDepth: number;
  /** Keys kept per object; the rest are counted under the key "…". */
  readonly maxKeys: number;
  /** Items kept per array; a last item says how many were left out. */
  readonly maxArrayLength: number;
}

export interface RedactionPolicy {
  readonly keys: SensitiveKeyRules;
  readonly values: ValueRules;
  readonly limits: RedactionLimits;
  /** What a sensitive key's value becomes. */
  readonly replacement: string;
}

/**
 * Defaults that cover Juice Shop v20: login bodies (`password`), change-password query (`current`, `new`,
 * `repeat`), security answers (`answer`), TOTP (`totpSecret`, `tmpToken`), the JWT payload (`password` md5,
 * `totpSecret`, `deluxeToken`), cards (`cardNum`), headers (`Authorization`, `Cookie`, `Set-Cookie`, `X-Api-Key`).
 */
export const DEFAULT_REDACTION: RedactionPolicy = Object.freeze({
  keys: Object.freeze({
    exact: Object.freeze([
      'pw', 'pass', 'passw', 'current', 'new', 'repeat', 'old', 'pin', 'otp', 'cvv2', 'cvc2', 'csc', 'pan',
      'auth', 'ssn', 'seed', 'mnemonic',
    ]),
    contains: Object.freeze([
      'password', 'passwd', 'passphrase', 'pwd', 'secret', 'answer', 'totp', 'authorization', 'cookie',
      'apikey', 'privatekey', 'accesskey', 'cardnum', 'cardnumber', 'creditcard', 'ccnumber', 'cardcvc',
      'cardcvv', 'securitycode', 'session', 'credential', 'signingkey', 'encryptionkey',
    ]),
    suffix: Object.freeze(['token', 'tokens', 'jwt', 'pin', 'otp', 'cvv', 'cvc', 'sid']),
    allow: Object.freeze([]),
  }),
  values: Object.freeze({
    jwt: true,
    bearer: true,
    basic: true,
    card: true,
    cardIssuerPrefix: true,
    privateKey: true,
    urlPassword: true,
    keyValueText: true,
    digestsInText: true,
    digestsEverywhere: false,
  }),
  limits: Object.freeze({ maxDepth: 8, maxKeys: 200, maxArrayLength: 200 }),
  replacement: '[REDACTED]',
});

export interface RedactionPolicyOverrides {
  keys?: Partial<SensitiveKeyRules>;
  values?: Partial<ValueRules>;
  limits?: Partial<RedactionLimits>;
  replacement?: string;
}

/**
 * A policy from the defaults plus overrides. Key lists given here are added to the default ones (a policy
 * that forgets `password` is a bug waiting); to remove a default key, list it under `keys.allow`.
 */
export function createRedactionPolicy(overrides: RedactionPolicyOverrides = {}, base: RedactionPolicy = DEFAULT_REDACTION): RedactionPolicy {
  const extraKeys = overrides.keys ?? {};
  const merge = (defaults: readonly string[], extra: readonly string[] | undefined): readonly string[] =>
    Object.freeze([...new Set([...defaults, ...(extra ?? []).map(normaliseKey)])]);
  return Object.freeze({
    keys: Object.freeze({
      exact: merge(base.keys.exact, extraKeys.exact),
      contains: merge(base.keys.contains, extraKeys.contains),
      suffix: merge(base.keys.suffix, extraKeys.suffix),
      allow: merge(base.keys.allow, extraKeys.allow),
    }),
    values: Object.freeze({ ...base.values, ...overrides.values }),
    limits: Object.freeze({ ...base.limits, ...overrides.limits }),
    replacement: overrides.replacement ?? base.replacement,
  });
}

const NOT_ALNUM = /[^a-z0-9]+/g;

/** Lower case, letters and digits only. */
export function normaliseKey(key: string): string {
  const lower = key.toLowerCase();
  return /[^a-z0-9]/.test(lower) ? lower.replace(NOT_ALNUM, '') : lower;
}

interface CompiledKeyRules {
  readonly exact: ReadonlySet<string>;
  readonly allow: ReadonlySet<string>;
  readonly contains: readonly string[];
  readonly suffix: readonly string[];
  /** Decisions by raw key: keys repeat (header names, body fields), so each is worked out once. */
  readonly cache: Map<string, boolean>;
}

const CACHE_LIMIT = 4096;
const compiled = new WeakMap<RedactionPolicy, CompiledKeyRules>();

function compile(policy: RedactionPolicy): CompiledKeyRules {
  let rules = compiled.get(policy);
  if (rules === undefined) {
    rules = {
      exact: new Set(policy.keys.exact.map(normaliseKey)),
      allow: new Set(policy.keys.allow.map(normaliseKey)),
      contains: policy.keys.contains.map(normaliseKey).filter((part) => part.length > 0),
      suffix: policy.keys.suffix.map(normaliseKey).filter((part) => part.length > 0),
      cache: new Map(),
    };
    compiled.set(policy, rules);
  }
  return rules;
}

function decide(rules: CompiledKeyRules, normalised: string): boolean {
  if (normalised.length === 0 || rules.allow.has(normalised)) return false;
  if (rules.exact.has(normalised)) return true;
  for (const part of rules.contains) if (normalised.includes(part)) return true;
  for (const part of rules.suffix) if (normalised.endsWith(part)) return true;
  return false;
}

/** Whether a value stored under `key` must be redacted whatever it looks like. */
export function isSensitiveKey(key: string, policy: RedactionPolicy = DEFAULT_REDACTION): boolean {
  const rules = compile(policy);
  const known = rules.cache.get(key);
  if (known !== undefined) return known;
  const sensitive = decide(rules, normaliseKey(key));
  // Only short keys are remembered: a client can send endless distinct long ones.
  if (key.length <= 64) {
    if (rules.cache.size >= CACHE_LIMIT) rules.cache.clear();
    rules.cache.set(key, sensitive);
  }
  return sensitive;
}
