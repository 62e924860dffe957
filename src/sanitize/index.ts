export {
  DEFAULT_MAX_LENGTH,
  capNeutralised,
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
