/**
 * Error objects shaped like the ones Juice Shop's stack produces, because errorhandler serialises every
 * enumerable property into its JSON reply (that is where the `sql` text leaks).
 */

const SQLITE_ERRNO: Readonly<Record<string, number>> = { SQLITE_ERROR: 1, SQLITE_CONSTRAINT: 19, SQLITE_MISMATCH: 20 };

/** What node-sqlite3 throws (Sequelize's driver): `SQLITE_ERROR: <message>` with errno, code and (added by Sequelize) sql. */
export class SqliteDriverError extends Error {
  errno: number;
  code: string;
  sql: string;

  constructor(message: string, code: string, sql: string) {
    // node-sqlite3 reports the primary result code (SQLITE_CONSTRAINT, not SQLITE_CONSTRAINT_UNIQUE).
    const primary = code.split('_').slice(0, 2).join('_');
    super(`${primary}: ${message}`);
    this.errno = SQLITE_ERRNO[primary] ?? 1;
    this.code = primary;
    this.sql = sql;
  }
}

/** Sequelize's DatabaseError: same message as its parent, with parent, original and sql enumerable. */
export class SequelizeDatabaseError extends Error {
  parent: SqliteDriverError;
  original: SqliteDriverError;
  sql: string;

  constructor(parent: SqliteDriverError) {
    super(parent.message);
    this.name = 'SequelizeDatabaseError';
    this.parent = parent;
    this.original = parent;
    this.sql = parent.sql;
  }
}

/** Sequelize's UniqueConstraintError ("Validation error"), e.g. the same product twice in one basket. */
export class SequelizeUniqueConstraintError extends Error {
  errors: { message: string; type: string; path: string; value: unknown }[];
  fields: Record<string, unknown>;
  parent: SqliteDriverError;
  original: SqliteDriverError;
  sql: string;

  constructor(parent: SqliteDriverError, fields: Record<string, unknown>) {
    super('Validation error');
    this.name = 'SequelizeUniqueConstraintError';
    this.errors = Object.entries(fields).map(([path, value]) => ({ message: `${path} must be unique`, type: 'unique violation', path, value }));
    this.fields = fields;
    this.parent = parent;
    this.original = parent;
    this.sql = parent.sql;
  }
}

/** express-jwt 0.1.3's UnauthorizedError: built without Error's constructor, so it has no stack at all. */
export interface UnauthorizedError extends Error {
  code: 'credentials_required' | 'credentials_bad_format' | 'invalid_token';
  status: 401;
  inner: { message: string };
}

export function unauthorizedError(code: UnauthorizedError['code'], inner: { message: string }): UnauthorizedError {
  const error = Object.create(Error.prototype) as UnauthorizedError;
  error.name = 'UnauthorizedError';
  error.message = inner.message;
  error.code = code;
  error.status = 401;
  error.inner = inner;
  return error;
}

interface SqliteErrorLike {
  message: string;
  code: string;
}

/**
 * Duck-typed on purpose: better-sqlite3's native addon keeps the SqliteError class of the first context that
 * loaded it, so under jest (one context per test file) `instanceof Error` can fail for a genuine SQLite error.
 */
export function isSqliteError(value: unknown): value is SqliteErrorLike {
  if (typeof value !== 'object' || value === null) return false;
  const { code, message } = value as Partial<Record<'code' | 'message', unknown>>;
  return typeof code === 'string' && code.startsWith('SQLITE_') && typeof message === 'string';
}

/** An error's message whatever realm created it. */
export function messageOf(error: unknown): string {
  const message = typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof message === 'string' ? message : String(error);
}
