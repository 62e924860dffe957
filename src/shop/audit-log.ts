/**
 * The messages a mode writes from inside the routes. Stock Juice Shop writes none; the naive team writes
 * string-concatenated lines (`'Failed login for ' + email`), which is the log-injection foil.
 */
export interface ShopAuditLog {
  loginFailed(email: string): void;
  loginSucceeded(email: string): void;
  secondFactorRequired(email: string): void;
  passwordChanged(email: string): void;
}

export const SILENT_AUDIT_LOG: ShopAuditLog = {
  loginFailed: () => undefined,
  loginSucceeded: () => undefined,
  secondFactorRequired: () => undefined,
  passwordChanged: () => undefined,
};
