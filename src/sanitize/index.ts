/**
 * CWE-117 (neutralise, per-sink encoders) and CWE-532 (redaction) for everything that reaches a log.
 * Order on the hot path: sanitizeEvent (redact, then neutralise and cap every string) -> a sink encoder
 * (encodeHeaderField / encodeSdName / encodeSdValue for RFC 5424, toJsonLine for JSON). toJsonLine leaves
 * text that has no raw control character as it is, so a sanitized event is not escaped twice.
 */
export {
  DEFAULT_MAX_LENGTH,
  capNeutralised,
  neutraliseCut,
  hasUnsafeChars,
  needsNeutralising,
  neutralise,
  truncationMarker,
  unescapeNeutralised,
} from './neutralise';
export {
  HEADER_FIELD_LIMITS,
  HEADER_TRUNCATION_MARKER,
  SD_NAME_MAX_LENGTH,
  encodeHeaderField,
  encodeSdName,
  encodeSdValue,
} from './syslog-fields';
export { toJsonLine } from './json-line';
export type { JsonLineOptions } from './json-line';
export {
  DEFAULT_REDACTION,
  createRedactionPolicy,
  isSensitiveKey,
  normaliseKey,
} from './policy';
export type { RedactionLimits, RedactionPolicy, RedactionPolicyOverrides, SensitiveKeyRules, ValueRules } from './policy';
export { CARD_LABEL, luhnValid, redactCards } from './cards';
export {
  BASIC_LABEL,
  BEARER_LABEL,
  DIGEST_LABEL,
  JWT_LABEL,
  PRIVATE_KEY_LABEL,
  redactAuthSchemes,
  redactDigests,
  redactJwts,
  redactKeyValues,
  redactPrivateKeys,
  redactString,
  redactUrlPasswords,
} from './redact-string';
export type { RedactStringOptions } from './redact-string';
export { redactQuery, redactUrl } from './redact-url';
export { redactObject, redactTokenPayload } from './redact-object';
export type { RedactObjectOptions } from './redact-object';
export { DEFAULT_EVENT_LIMITS, sanitizeEvent } from './sanitize-event';
export type { EventFieldLimits } from './sanitize-event';
