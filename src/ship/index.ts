export { formatRfc5424, AUDIT_SD_ID, FACILITY_LOG_AUDIT, type Rfc5424Options } from './rfc5424';
export { frameOctetCounted, parseOctetCounted } from './framing';
export { Backoff, type BackoffOptions } from './backoff';
export {
  CollectorConnection,
  parseCollectorUrl,
  type CollectorProtocol,
  type CollectorTarget,
  type CollectorTlsOptions,
  type ConnectionOptions,
} from './connection';
export {
  Spool,
  SpoolFullError,
  SpoolIoError,
  type SegmentInfo,
  type SpoolOptions,
  type SpoolPosition,
  type SpoolRecord,
  type SpoolRecovery,
} from './spool';
export { SpoolLockedError } from './spool-lock';
export {
  SyslogTransport,
  type AuditInfo,
  type MonitorChange,
  type MonitorReason,
  type ShipStats,
  type SyslogTransportOptions,
} from './transport';
export { JsonLinesFileTransport, type FileSinkStats, type JsonLinesFileOptions } from './file-sink';
export { createAuditLogger, type AuditLogger, type AuditLoggerOptions, type AuditLoggerStats } from './audit-logger';
export { AuditSinks, levelOf, type SinkOptions, type SinkStats } from './sinks';
export { ShippingThread } from './ship-thread';
