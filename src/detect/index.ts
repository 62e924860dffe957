export type { Alert, AlertChange, AlertChangeKind, AlertKey, AlertState, EvidenceRef } from './alert';
export {
  DetectionConfigError,
  defaultDetectionConfig,
  loadDetectionConfig,
  parseDetectionConfig,
  validateDetectionConfig,
} from './config';
export type { DetectionConfig, DetectionSettings, KeyKind, MatchConfig, RuleConfig, RuleKind } from './config-types';
export { createDetector } from './detector';
export type { AlertListener, ChangeListener, Detector, DetectorOptions, DetectorStats } from './detector';
export type { RuleStats } from './rules';
export { ALERT_SD_ID, SYSLOG_SEVERITY_ALERT, formatAlertRfc5424 } from './escalate/alert-syslog';
export type { AlertSyslogOptions } from './escalate/alert-syslog';
export { createEscalator } from './escalate/escalator';
export type { EscalationConfig, Escalator, EscalatorOptions, EscalatorStats } from './escalate/escalator';
export type { SyslogForwardOptions, SyslogForwardStats } from './escalate/syslog-forwarder';
export { webhookBody } from './escalate/webhook';
export type { WebhookOptions, WebhookStats } from './escalate/webhook';
