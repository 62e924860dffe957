/**
 * fixed mode: the a09 middleware wired into the practice shop at Juice Shop's mount points.
 * Loaded by ./hooks (`fixedHooks(context)`); owned by the middleware work.
 */
import type { RequestHandler } from 'express';
import errorhandler from 'errorhandler';
import { a09, type A09Options } from '../../middleware';
import type { AuditEmitter } from '../events';
import type { FixedModeContext, ShopHooks } from './types';

/** What `ShopOptions.fixed` may carry for fixed mode. */
export interface FixedSettings {
  /** Where events go. */
  emitter: AuditEmitter;
  /** Overrides for the a09 stack (emitter and public key come from here and the shop). */
  a09?: Partial<Omit<A09Options, 'emitter' | 'jwtPublicKey'>>;
  /** Called by Shop.close() (e.g. to flush the emitter's transport). */
  close?: () => Promise<void> | void;
}

function isEmitter(value: unknown): value is AuditEmitter {
  return typeof value === 'object' && value !== null && typeof (value as { emit?: unknown }).emit === 'function';
}

function settingsFrom(context: FixedModeContext): FixedSettings {
  const fixed = context.options.fixed ?? {};
  if (!isEmitter(fixed.emitter)) {
    throw new Error("Shop mode 'fixed' needs options.fixed.emitter (an AuditEmitter, e.g. createAuditLogger() from src/ship)");
  }
  const overrides = typeof fixed.a09 === 'object' && fixed.a09 !== null ? (fixed.a09 as FixedSettings['a09']) : undefined;
  const close = typeof fixed.close === 'function' ? (fixed.close as FixedSettings['close']) : undefined;
  return { emitter: fixed.emitter, ...(overrides !== undefined && { a09: overrides }), ...(close !== undefined && { close }) };
}

/** The hooks for fixed mode from explicit settings (tests use this directly). */
export function fixedHooksFrom(settings: FixedSettings, publicKeyPem: string): ShopHooks {
  const stack = a09({
    // The generic error page keeps the title the shop gave errorhandler (server.ts sets it after requiring).
    errorAudit: { title: () => (errorhandler as unknown as { title?: string }).title ?? 'Error' },
    ...settings.a09,
    emitter: settings.emitter,
    jwtPublicKey: publicKeyPem,
  });
  const [context, ...rest] = stack.first;
  const first: RequestHandler[] = [context!, ...(stack.helmet !== undefined ? [stack.helmet] : []), ...rest];
  return {
    first,
    afterJsonParser: stack.afterJsonParser,
    replaceAccessLog: stack.accessLog,
    onApp: (app) => stack.param(app),
    wrapErrorHandler: (handler) => stack.errorHandler(handler),
    // a09's helmet (CSP off: Juice Shop's Angular app breaks under helmet's default CSP) is in `first`.
    helmet: false,
    ...(settings.close !== undefined && { close: settings.close }),
  };
}

export function fixedHooks(context: FixedModeContext): ShopHooks {
  return fixedHooksFrom(settingsFrom(context), context.publicKeyPem);
}
