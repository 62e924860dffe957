/**
 * The audit event vocabulary. Names follow the OWASP Logging Vocabulary cheat sheet where it has one;
 * the rest (sys_error, http_request, order_placed, sys_heartbeat) are ours, named in the same style.
 */

/** RFC 5424 severity: 0 emergency .. 7 debug. */
export type Severity = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

/** The OWASP Logging Vocabulary level. */
export type OwaspLevel = 'INFO' | 'WARN' | 'CRITICAL';

export interface EventTypeInfo {
  readonly severity: Severity;
  readonly level: OwaspLevel;
  /** Who/where must be present: the event is about a request by someone (CWE-223). */
  readonly requestBound: boolean;
  /** The event names an account: who.userId or who.emailId must be present (CWE-223). */
  readonly actorBound: boolean;
  readonly summary: string;
}

const t = (
  severity: Severity,
  level: OwaspLevel,
  requestBound: boolean,
  actorBound: boolean,
  summary: string,
): EventTypeInfo => ({ severity, level, requestBound, actorBound, summary });

export const VOCABULARY = {
  authn_login_success: t(6, 'INFO', true, true, 'a user logged in'),
  authn_login_successafterfail: t(4, 'WARN', true, true, 'a user logged in after failed attempts'),
  authn_login_fail: t(4, 'WARN', true, true, 'a login failed'),
  authn_login_fail_max: t(2, 'CRITICAL', true, true, 'an account reached the maximum of failed logins'),
  authn_password_change: t(5, 'INFO', true, true, 'a user changed their password'),
  authn_password_change_fail: t(2, 'CRITICAL', true, true, 'a password change failed'),
  authn_token_invalid: t(2, 'CRITICAL', true, false, 'a token was unsigned, wrongly signed, of the wrong algorithm or expired'),
  authz_fail: t(2, 'CRITICAL', true, true, 'a user reached for a resource that is not theirs'),
  input_validation_fail: t(4, 'WARN', true, false, 'input failed validation'),
  malicious_sqli: t(2, 'CRITICAL', true, false, 'input carries SQL injection'),
  malicious_direct_reference: t(2, 'CRITICAL', true, true, 'a request manipulates an object reference'),
  malicious_excess_404: t(4, 'WARN', true, false, 'a source requests many missing resources'),
  malicious_attack_tool: t(2, 'CRITICAL', true, false, 'a request carries the marks of an attack tool'),
  sensitive_read: t(4, 'WARN', true, false, 'an attempt to read log files or other sensitive data'),
  sys_error: t(3, 'WARN', false, false, 'the application failed to handle a request'),
  sys_startup: t(5, 'WARN', false, false, 'the application started'),
  sys_shutdown: t(5, 'WARN', false, false, 'the application stopped'),
  sys_monitor_disabled: t(4, 'WARN', false, false, 'audit logging stopped or lost events'),
  sys_monitor_enabled: t(5, 'WARN', false, false, 'audit logging resumed'),
  sys_heartbeat: t(6, 'INFO', false, false, 'audit logging is alive'),
  http_request: t(6, 'INFO', true, false, 'an HTTP request was answered'),
  order_placed: t(5, 'INFO', true, true, 'an order was placed'),
} as const satisfies Record<string, EventTypeInfo>;

export type EventType = keyof typeof VOCABULARY;

export const EVENT_TYPES = Object.keys(VOCABULARY) as readonly EventType[];

export function isEventType(value: unknown): value is EventType {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(VOCABULARY, value);
}
