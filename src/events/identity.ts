import { createHmac } from 'node:crypto';

/** Lower-cased and trimmed, so that `Admin@Juice-sh.op ` and `admin@juice-sh.op` link up. */
export function normaliseEmail(email: string): string {
  return email.trim().toLowerCase();
}

/**
 * Pseudonymise an email: HMAC-SHA256 under a key the operator holds, first 24 hex digits (96 bits).
 * 24 digits and not 32, 40 or 64, so it never looks like the password digests the redactor hunts for.
 */
export function pseudonymiseEmail(email: string, key: string | Buffer): string {
  return createHmac('sha256', key).update(normaliseEmail(email)).digest('hex').slice(0, 24);
}

/** A host name as DNS has them; anything else after the `@` is attacker text, not a domain. */
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/;

/**
 * A masked form for people: first character of the local part, `**`, and the domain.
 * `jim@juice-sh.op` -> `j**@juice-sh.op`. Text that is no address keeps only its first character, and a
 * "domain" that is no host name is masked too, so a payload such as `a@x.op logged in` cannot pass for one.
 */
export function maskEmail(email: string): string {
  const normal = normaliseEmail(email);
  if (normal.length === 0) return '(empty)';
  const chars = Array.from(normal);
  const at = normal.lastIndexOf('@');
  if (at <= 0) return `${chars[0]}**`;
  const local = Array.from(normal.slice(0, at));
  const domain = normal.slice(at + 1);
  return DOMAIN.test(domain) ? `${local[0]}**@${domain}` : `${local[0]}**@**`;
}
