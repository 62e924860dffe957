/** Real-looking secrets for the redaction corpus, built the way Juice Shop builds them. */
import { generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';

export const ADMIN_MD5 = '0192023a7bbd73250516f069df18b500'; // md5('admin123')

/** The payload Juice Shop v20 signs at login: it carries the password hash. */
export const JUICE_SHOP_PAYLOAD = {
  status: 'success',
  data: {
    id: 1,
    username: '',
    email: 'admin@juice-sh.op',
    password: ADMIN_MD5,
    role: 'admin',
    deluxeToken: '',
    lastLoginIp: '127.0.0.1',
    profileImage: 'assets/public/images/uploads/defaultAdmin.png',
    totpSecret: 'IFTXE3SPOEYVURT2MRYGI52TKJ4HC3KH',
    isActive: true,
    createdAt: '2026-11-27 19:30:00.000 +00:00',
    updatedAt: '2026-11-27 19:30:00.000 +00:00',
    deletedAt: null,
  },
  bid: 1,
};

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

export interface TokenSet {
  rs256: string;
  hs256Forged: string;
  unsigned: string;
}

/** An RS256 token as Juice Shop issues, an HS256 one forged with the public key, an `alg: none` one. */
export function makeTokens(): TokenSet {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const rs256 = jwt.sign(JUICE_SHOP_PAYLOAD, privateKey, { algorithm: 'RS256', expiresIn: '6h' });
  const hs256Forged = jwt.sign(JUICE_SHOP_PAYLOAD, publicKey.export({ type: 'spki', format: 'pem' }).toString(), { algorithm: 'HS256' });
  const unsigned = `${base64url('{"alg":"none","typ":"JWT"}')}.${base64url(JSON.stringify(JUICE_SHOP_PAYLOAD))}.`;
  return { rs256, hs256Forged, unsigned };
}

/** Card numbers that pass Luhn (PSP test numbers), as people write them. */
export const CARDS = [
  '4111 1111 1111 1111',
  '4111111111111111',
  '5555-5555-5555-4444',
  '378282246310005',
  '3782 822463 10005',
  '6011111111111117',
  '3530111333300000',
  '2223003122003222',
  '4222222222222',
  '4716190207394368',
  '6304000000000000',
  '4111 1111 1111 1111 003',
];

/** Digits only: what must not survive in any form. */
export function digitsOf(card: string): string {
  return card.replace(/[ -]/g, '');
}
