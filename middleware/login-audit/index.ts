import type { KeyObject } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { bodyOf } from '../lib/body';
import { captureBody, type CapturedBody } from '../lib/capture';
import {
  contextSettings,
  ensureContext,
  reportEmitError,
  type Completion,
  type ContextSettings,
  type ContextSettingsOptions,
  type RequestContext,
} from '../lib/context';
import { FailureTracker } from '../lib/failures';
import { SessionDirectory } from '../lib/sessions';
import { detectSqli } from '../lib/sqli';
import { TokenVerifier, unverifiedActor, type Actor } from '../lib/token';

export interface LoginAuditOptions extends ContextSettingsOptions {
  /** Failures older than this (since the account's last failure) are forgotten; default 15 minutes. */
  failureWindowMs?: number;
  /**
   * From this many failures on, a success after failures is CRITICAL, and reaching it records
   * authn_login_fail_max once per series; default 5.
   */
  criticalFailures?: number;
  /** Accounts tracked at once (LRU); default 10000. */
  maxTrackedAccounts?: number;
  /** Audit GET /rest/user/change-password too; default true. */
  changePassword?: boolean;
  /** Verifies the token a login answers with (a09 shares one); built from jwtPublicKey when absent. */
  verifier?: TokenVerifier;
  jwtPublicKey?: string | Buffer | KeyObject;
  /** Shared with basket-audit: login responses teach which basket a user owns. */
  sessions?: SessionDirectory;
  /** How much of an injected value is kept as evidence; default 256 characters. */
  maxEvidenceLength?: number;
  now?: () => number;
}

interface LoginAuditState {
  settings: ContextSettings;
  tracker: FailureTracker;
  criticalFailures: number;
  windowMs: number;
  verifier?: TokenVerifier;
  sessions: SessionDirectory;
  maxEvidence: number;
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** The account a successful login resolved to, from `{ authentication: { token, bid, umail } }`. */
function resolvedAccount(state: LoginAuditState, response: unknown): Actor | undefined {
  const authentication = record(record(response)?.authentication);
  if (authentication === undefined) return undefined;
  const token = text(authentication.token);
  let actor: Actor | undefined;
  if (token !== undefined) {
    const verdict = state.verifier?.verify(token, 'header');
    actor = verdict?.state === 'valid' ? verdict.actor : unverifiedActor(token);
  }
  const email = text(authentication.umail) ?? actor?.email;
  const basketId = text(authentication.bid) ?? actor?.basketId;
  if (actor === undefined && email === undefined) return undefined;
  const resolved: Actor = { ...actor };
  if (email !== undefined) resolved.email = email;
  if (basketId !== undefined) {
    resolved.basketId = basketId;
    if (actor?.userId !== undefined) state.sessions.learnBasket(actor.userId, basketId);
  }
  return resolved;
}

/** What a malicious_sqli event keeps of the injected email. */
function sqliEvidence(email: string, marks: readonly string[], maxLength: number): Record<string, string> {
  return { field: 'email', marks: marks.join(','), input: email.slice(0, maxLength) };
}

function auditLogin(state: LoginAuditState, context: RequestContext, req: Request, captured: CapturedBody, completion: Completion): void {
  const body = bodyOf(context, req).parsed;
  const submitted = body?.email;
  const email = typeof submitted === 'string' ? submitted : '';
  // Not a string: say what it was (Juice Shop's login breaks on arrays and objects, which attackers try).
  const emailType = typeof submitted === 'string' || submitted === undefined ? undefined : Array.isArray(submitted) ? 'array' : typeof submitted;
  const sqli = detectSqli(email.slice(0, 2048));
  const injected = sqli.marks.length > 0;
  const status = completion.status;
  const response = captured.value();

  if (status !== undefined && status < 300) {
    const account = resolvedAccount(state, response);
    if (account !== undefined) {
      if (injected) {
        context.emit({
          type: 'malicious_sqli',
          outcome: 'allowed',
          reason: 'login_bypass',
          level: 'CRITICAL',
          severity: 1,
          description: 'SQL injection in the login email logged the client in',
          actor: account,
          detail: sqliEvidence(email, sqli.marks, state.maxEvidence),
        });
      }
      const failures = state.tracker.succeed(account.email ?? email);
      if (failures > 0) {
        const critical = failures >= state.criticalFailures;
        context.emit({
          type: 'authn_login_successafterfail',
          outcome: 'success',
          actor: account,
          ...(critical && { level: 'CRITICAL', severity: 2 }),
          detail: { failures, windowSeconds: state.windowMs / 1000, sqli: injected },
        });
      } else {
        context.emit({ type: 'authn_login_success', outcome: 'success', actor: account, detail: { sqli: injected } });
      }
      return;
    }
  }

  const secondFactor = status === 401 && record(response)?.status === 'totp_token_required';
  if (injected) {
    context.emit({
      type: 'malicious_sqli',
      outcome: secondFactor ? 'allowed' : status !== undefined && status >= 500 ? 'error' : 'blocked',
      reason: secondFactor ? 'login_bypass_first_factor' : status !== undefined && status >= 500 ? 'sql_error' : 'login_attempt',
      actor: null,
      email,
      detail: sqliEvidence(email, sqli.marks, state.maxEvidence),
    });
  }
  if (secondFactor) {
    // The password was right: not a failed guess, so it does not count towards a series.
    context.emit({
      type: 'authn_login_fail',
      outcome: 'failure',
      reason: 'second_factor_required',
      actor: null,
      email,
      detail: emailType === undefined ? { firstFactorValid: true } : { firstFactorValid: true, emailType },
    });
    return;
  }
  const reason =
    status === undefined || completion.aborted ? 'aborted' : status === 401 ? 'bad_credentials' : status >= 500 ? 'error' : `status_${status}`;
  const counted = reason === 'bad_credentials' ? state.tracker.fail(email, state.criticalFailures) : undefined;
  const detail: Record<string, string | number | boolean> = {};
  if (counted !== undefined) detail.failures = counted.count;
  detail.sqli = injected;
  if (emailType !== undefined) detail.emailType = emailType;
  context.emit({ type: 'authn_login_fail', outcome: reason === 'error' ? 'error' : 'failure', reason, actor: null, email, detail });
  if (counted?.reachedMax === true) {
    context.emit({
      type: 'authn_login_fail_max',
      outcome: 'failure',
      reason: 'max_failures',
      actor: null,
      email,
      detail: { failures: counted.count, windowSeconds: state.windowMs / 1000 },
    });
  }
}

function queryOf(url: string): URLSearchParams {
  const at = url.indexOf('?');
  return new URLSearchParams(at === -1 ? '' : url.slice(at + 1));
}

/** Juice Shop answers a change with `{ user: { id, email, password, ... } }`: only id and email are read. */
function changedUser(response: unknown): Actor | undefined {
  const user = record(record(response)?.user);
  const userId = text(user?.id);
  if (userId === undefined) return undefined;
  const email = text(user?.email);
  return email !== undefined ? { userId, email } : { userId };
}

function auditPasswordChange(context: RequestContext, captured: CapturedBody, completion: Completion): void {
  const query = queryOf(context.rawUrl);
  const newPassword = query.get('new');
  const currentSupplied = (query.get('current') ?? '') !== '';
  const status = completion.status;
  const claimed = context.token.state === 'invalid' || context.token.state === 'unverified' ? context.token.claimed : undefined;
  const actor = context.actor ?? changedUser(captured.value()) ?? claimed ?? { userId: 'anonymous' };
  const detail = { currentSupplied, actorVerified: context.actor !== undefined };
  if (status !== undefined && status < 300) {
    context.emit({
      type: 'authn_password_change',
      outcome: 'success',
      actor,
      // Changing a password without the current one is how Juice Shop's CSRF/Bender attack works.
      ...(!currentSupplied && { reason: 'without_current_password', level: 'WARN', severity: 4 }),
      detail,
    });
    return;
  }
  let reason: string;
  if (status === undefined || completion.aborted) reason = 'aborted';
  else if (newPassword === null || newPassword === '' || newPassword === 'undefined') reason = 'empty_password';
  else if (newPassword !== query.get('repeat')) reason = 'passwords_do_not_match';
  else if (status === 401) reason = 'wrong_current_password';
  else if (status >= 500 && context.actor === undefined) reason = 'not_authenticated';
  else reason = status >= 500 ? 'error' : `status_${status}`;
  context.emit({ type: 'authn_password_change_fail', outcome: reason === 'error' ? 'error' : 'failure', reason, actor, detail });
}

/**
 * POST /rest/user/login -> authn_login_success / authn_login_fail / authn_login_successafterfail (+
 * authn_login_fail_max), malicious_sqli for injection in the email (CRITICAL, severity 1, when it logged the
 * client in); GET /rest/user/change-password -> authn_password_change / authn_password_change_fail.
 * The outcome is read from the response: status and `authentication.umail`/token.
 */
export function loginAudit(options: LoginAuditOptions, settings: ContextSettings = contextSettings(options)): RequestHandler {
  const now = options.now ?? Date.now;
  const windowMs = options.failureWindowMs ?? 15 * 60 * 1000;
  const verifier =
    options.verifier ?? (options.jwtPublicKey !== undefined ? new TokenVerifier({ publicKey: options.jwtPublicKey, now }) : undefined);
  const state: LoginAuditState = {
    settings,
    tracker: new FailureTracker({ windowMs, maxAccounts: options.maxTrackedAccounts ?? 10000, now }),
    criticalFailures: options.criticalFailures ?? 5,
    windowMs,
    sessions: options.sessions ?? new SessionDirectory(),
    maxEvidence: options.maxEvidenceLength ?? 256,
    ...(verifier !== undefined && { verifier }),
  };
  const changePassword = options.changePassword !== false;

  return function a09LoginAudit(req: Request, res: Response, next: NextFunction): void {
    try {
      const context = ensureContext(req, res, settings);
      const route = context.route?.name;
      if ((route === 'login' || (route === 'change-password' && changePassword)) && context.attach('login-audit')) {
        const captured = captureBody(context, res);
        if (route === 'login') {
          context.wantsBody = true;
          context.onDone((completion) => auditLogin(state, context, req, captured, completion));
        } else {
          context.onDone((completion) => auditPasswordChange(context, captured, completion));
        }
      }
    } catch (error) {
      reportEmitError(settings, error);
    }
    next();
  };
}
