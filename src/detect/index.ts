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
