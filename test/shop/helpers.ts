import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import request from 'supertest';
import { createShop, generateShopKeys, type ListeningShop, type Shop, type ShopKeyPair, type ShopOptions } from '../../src/shop';

let sharedKeys: ShopKeyPair | undefined;

/** One RSA key pair per test file: generating 2048-bit keys is the slowest part of starting a shop. */
export function testKeys(): ShopKeyPair {
  sharedKeys ??= generateShopKeys();
  return sharedKeys;
}

export interface RunningShop {
  shop: Shop;
  listening: ListeningShop;
  url: string;
  logDir: string;
  http: ReturnType<typeof request>;
  stop(): Promise<void>;
}

export async function startShop(options: Partial<ShopOptions> = {}): Promise<RunningShop> {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'a09-shop-'));
  const shop = await createShop({ mode: 'stock', logDir, keys: testKeys(), ...options });
  const listening = await shop.listen();
  return {
    shop,
    listening,
    url: listening.url,
    logDir,
    http: request(listening.url),
    stop: async () => {
      await shop.close();
      fs.rmSync(logDir, { recursive: true, force: true });
    },
  };
}

export async function loginAs(running: RunningShop, email: string, password: string): Promise<{ token: string; bid: number }> {
  const response = await running.http.post('/rest/user/login').send({ email, password }).expect(200);
  const body = response.body as { authentication: { token: string; bid: number } };
  return { token: body.authentication.token, bid: body.authentication.bid };
}

/** Decodes a JWT payload without verifying it. */
export function payloadOf(token: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString('utf8')) as Record<string, unknown>;
}

/** Retries a check until it stops throwing (log lines are written when the response has finished). */
export async function eventually<T>(check: () => T | Promise<T>, attempts = 50): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  throw lastError;
}
