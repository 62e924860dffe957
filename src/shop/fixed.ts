/**
 * fixed mode: the a09 middleware wired into the practice shop at Juice Shop's mount points.
 * Loaded by ./hooks (`fixedHooks(context)`); owned by the middleware work.
 */
import path from 'node:path';
import errorhandler from 'errorhandler';
import { a09, type A09Options } from '../../middleware';
import type { AuditEmitter } from '../events';
import { createAuditLogger, type AuditLoggerOptions } from '../ship';
import type { FixedModeContext, ShopHooks } from './types';

/** What `ShopOptions.fixed` may carry for fixed mode (all optional). */
export interface FixedSettings {
  /** Where events go. Default: an audit logger built from `logger` (see `defaultLoggerOptions`). */
  emitter?: AuditEmitter;
  /** Options for createAuditLogger when no emitter is given (collector, file, spoolDir, hmacKey, ...). */
  logger?: AuditLoggerOptions;
  /** Overrides for the a09 stack (emitter and public key come from here and the shop). */
  a09?: Partial<Omit<A09Options, 'emitter' | 'jwtPublicKey'>>;
  /** Called by Shop.close() after the logger this module created (if any) is closed. */
  close?: () => Promise<void> | void;
}

/**
 * Without a collector, events go to a JSON-lines file beside (not inside) the shop's log directory:
 * `logs/` is what /support/logs serves in the other modes.
 */
export function defaultLoggerOptions(logDir: string): AuditLoggerOptions {
  return { app: 'juice-shop', file: path.join(path.dirname(path.resolve(logDir)), 'a09-audit', 'events.jsonl') };
}

function isEmitter(value: unknown): value is AuditEmitter {
  return typeof value === 'object' && value !== null && typeof (value as { emit?: unknown }).emit === 'function';
}

function settingsFrom(context: FixedModeContext): FixedSettings {
  const fixed = context.options.fixed ?? {};
  const settings: FixedSettings = {};
  if (fixed.emitter !== undefined) {
    if (!isEmitter(fixed.emitter)) throw new TypeError("Shop mode 'fixed': options.fixed.emitter must be an AuditEmitter ({ emit(input) })");
    settings.emitter = fixed.emitter;
  }
  if (typeof fixed.logger === 'object' && fixed.logger !== null) settings.logger = fixed.logger as AuditLoggerOptions;
  if (typeof fixed.a09 === 'object' && fixed.a09 !== null) settings.a09 = fixed.a09 as FixedSettings['a09'];
  if (typeof fixed.close === 'function') settings.close = fixed.close as FixedSettings['close'];
  return settings;
}

/** The hooks for fixed mode from explicit settings. */
export function fixedHooksFrom(settings: FixedSettings, publicKeyPem: string, logDir: string): ShopHooks {
  const logger = settings.emitter === undefined ? createAuditLogger(settings.logger ?? defaultLoggerOptions(logDir)) : undefined;
  const emitter = settings.emitter ?? logger!;
  const stack = a09({
    // The generic error page keeps the title the shop gave errorhandler (server.ts sets it after requiring).
    errorAudit: { title: () => (errorhandler as unknown as { title?: string }).title ?? 'Error' },
    ...settings.a09,
    emitter,
    jwtPublicKey: publicKeyPem,
  });
  return {
    // Request context, helmet, audits and log guard as one Express layer (each layer costs the router a few
    // microseconds per request): what a09's middleware() composes.
    first: [stack.middleware()],
    afterJsonParser: stack.afterJsonParser,
    replaceAccessLog: stack.accessLog,
    onApp: (app) => stack.param(app),
    wrapErrorHandler: (handler) => stack.errorHandler(handler),
    // a09's helmet (CSP off: Juice Shop's Angular app breaks under helmet's default CSP) is in `first`.
    helmet: false,
    close: async () => {
      await logger?.close();
      await settings.close?.();
    },
  };
}

export function fixedHooks(context: FixedModeContext): ShopHooks {
  return fixedHooksFrom(settingsFrom(context), context.publicKeyPem, context.logDir);
}
