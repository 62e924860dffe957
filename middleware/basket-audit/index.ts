import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { DetailValue } from '../../src/events';
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
import { isContainerMarker, scanJson } from '../lib/json-scan';
import { SessionDirectory } from '../lib/sessions';
import type { Actor } from '../lib/token';

export interface BasketAuditOptions extends ContextSettingsOptions {
  /** Shared with login-audit, which learns each user's basket from login responses. */
  sessions?: SessionDirectory;
  /** A coupon worth more than this percentage is recorded as input_validation_fail; default 50. */
  maxCouponDiscount?: number;
  /** Longest raw body scanned for duplicate keys; default 1 MiB. */
  maxScanLength?: number;
}

interface Owner {
  actor: Actor;
  /** The actor's basket: from the token's `bid` or learned from a login response; unknown after a restart. */
  basketId?: string;
  verified: boolean;
}

/** An owner whose basket is known: what the id comparisons need. */
type KnownOwner = Owner & { basketId: string };

const knows = (owner: Owner | undefined): owner is KnownOwner => owner?.basketId !== undefined;

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function scalarText(value: unknown): string | undefined {
  if (typeof value === 'string') return value.slice(0, 64);
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

/** Juice Shop compares basket ids loosely (`user.bid != id`): `'2'` and `2` are the same basket. */
export function sameBasket(a: string, b: string): boolean {
  const x = a.trim();
  const y = b.trim();
  if (x === y) return true;
  return x !== '' && y !== '' && Number(x) === Number(y) && !Number.isNaN(Number(x));
}

/** Values the app treats as "no basket given" (it skips its own check for them). */
function isUnset(value: string): boolean {
  return value === '' || value === 'undefined' || value === 'null';
}

function ownerOf(context: RequestContext, sessions: SessionDirectory): Owner | undefined {
  const verified = context.actor;
  const claimed = context.token.state === 'invalid' || context.token.state === 'unverified' ? context.token.claimed : undefined;
  const actor = verified ?? claimed;
  if (actor === undefined) return undefined;
  const basketId = actor.basketId ?? (actor.userId !== undefined ? sessions.basketOf(actor.userId) : undefined);
  return { actor, verified: verified !== undefined, ...(basketId !== undefined && { basketId }) };
}

const allowed = (completion: Completion): boolean => completion.status !== undefined && completion.status < 300;

function emitForeign(context: RequestContext, owner: Owner, completion: Completion, reason: string, detail: Record<string, DetailValue>): void {
  const appAllowed = allowed(completion);
  context.emit({
    type: 'authz_fail',
    outcome: appAllowed ? 'allowed' : 'blocked',
    reason,
    actor: owner.actor,
    detail: { ...detail, ownBasketId: owner.basketId ?? null, appAllowed, actorVerified: owner.verified },
  });
}

function auditBasketRead(
  context: RequestContext,
  owner: Owner | undefined,
  sessions: SessionDirectory,
  captured: CapturedBody,
  completion: Completion,
): void {
  const id = context.param('id');
  if (owner === undefined || id === undefined) return;
  const ownerUserId = scalarText(record(record(captured.value())?.data)?.UserId);
  let foreign: boolean;
  if (owner.basketId !== undefined) foreign = !sameBasket(id, owner.basketId);
  else if (ownerUserId !== undefined && owner.actor.userId !== undefined) {
    // Basket unknown (a token without bid, no login seen since start): the answer names the basket's owner.
    foreign = ownerUserId !== owner.actor.userId;
    if (!foreign && owner.verified) sessions.learnBasket(owner.actor.userId, id);
  } else return;
  if (!foreign) return;
  emitForeign(context, owner, completion, 'foreign_basket_read', { basketId: id.slice(0, 64), basketOwnerUserId: ownerUserId ?? null });
}

function numeric(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isNaN(n) ? undefined : n;
  }
  return undefined;
}

function auditBasketItem(
  context: RequestContext,
  req: Request,
  owner: Owner | undefined,
  completion: Completion,
  maxScanLength: number,
): void {
  const body = bodyOf(context, req);
  const values = new Map<string, unknown[]>();
  let duplicates: string[] = [];
  const raw = body.raw;
  if (raw !== undefined && raw.trimStart().startsWith('{')) {
    const scan = scanJson(raw, { maxLength: maxScanLength });
    if (scan.valid) {
      duplicates = scan.duplicates.map((d) => (d.path === '$' ? d.key : `${d.path}.${d.key}`));
      for (const [key, list] of scan.topLevel) values.set(key, list.filter((v) => !isContainerMarker(v)));
    }
  }
  if (values.size === 0 && body.parsed !== undefined) {
    for (const [key, value] of Object.entries(body.parsed)) values.set(key, [value]);
  }
  const basketIds = (values.get('BasketId') ?? []).map(scalarText).filter((v): v is string => v !== undefined);
  const appAllowed = allowed(completion);
  const outcome = appAllowed ? 'allowed' : 'blocked';
  const itemId = context.param('id');

  if (duplicates.length > 0) {
    const claimedActor = owner?.actor ?? context.actor ?? { userId: 'anonymous' };
    context.emit({
      type: 'malicious_direct_reference',
      outcome,
      reason: 'duplicate_json_keys',
      actor: claimedActor,
      detail: {
        duplicateKeys: duplicates.join(',').slice(0, 256),
        // The app checks the first BasketId and writes the last.
        firstBasketId: basketIds[0] ?? null,
        lastBasketId: basketIds[basketIds.length - 1] ?? null,
        appAllowed,
        ...(itemId !== undefined && { basketItemId: itemId.slice(0, 64) }),
      },
    });
  }
  if (knows(owner)) {
    const foreign = basketIds.filter((id) => !isUnset(id) && !sameBasket(id, owner.basketId));
    if (foreign.length > 0) {
      emitForeign(context, owner, completion, context.route?.name === 'basket-item' ? 'foreign_basket_item_update' : 'foreign_basket_item_add', {
        basketId: [...new Set(foreign)].join(',').slice(0, 128),
        firstBasketId: basketIds[0] ?? null,
        lastBasketId: basketIds[basketIds.length - 1] ?? null,
        ...(itemId !== undefined && { basketItemId: itemId.slice(0, 64) }),
      });
    }
  }
  const negative = (values.get('quantity') ?? []).map(numeric).filter((q): q is number => q !== undefined && q < 0);
  if (negative.length > 0) {
    context.emit({
      type: 'input_validation_fail',
      outcome,
      reason: 'negative_quantity',
      detail: { field: 'quantity', quantity: negative[0] ?? null, appAllowed, ...(itemId !== undefined && { basketItemId: itemId.slice(0, 64) }) },
    });
  }
}

function auditCheckout(context: RequestContext, owner: Owner | undefined, captured: CapturedBody, completion: Completion): void {
  const id = context.param('id') ?? '';
  const foreign = knows(owner) && !sameBasket(id, owner.basketId);
  if (foreign) emitForeign(context, owner, completion, 'foreign_basket_checkout', { basketId: id.slice(0, 64) });
  if (!allowed(completion)) return;
  const response = record(captured.value());
  const total = numeric(response?.totalPrice ?? response?.total);
  context.emit({
    type: 'order_placed',
    outcome: 'success',
    actor: owner?.actor ?? context.actor ?? { userId: 'anonymous' },
    detail: {
      basketId: id.slice(0, 64),
      orderId: scalarText(response?.orderConfirmation) ?? null,
      total: total ?? null,
      foreignBasket: foreign,
    },
  });
}

function auditCoupon(context: RequestContext, owner: Owner | undefined, captured: CapturedBody, completion: Completion, maxDiscount: number): void {
  const id = context.param('id') ?? '';
  if (knows(owner) && !sameBasket(id, owner.basketId)) {
    emitForeign(context, owner, completion, 'foreign_basket_coupon', { basketId: id.slice(0, 64) });
  }
  if (completion.status === 404) {
    context.emit({
      type: 'input_validation_fail',
      outcome: 'blocked',
      reason: 'invalid_coupon',
      detail: { field: 'coupon', basketId: id.slice(0, 64), couponLength: (context.param('coupon') ?? '').length },
    });
    return;
  }
  const discount = numeric(record(captured.value())?.discount);
  if (allowed(completion) && discount !== undefined && discount > maxDiscount) {
    context.emit({
      type: 'input_validation_fail',
      outcome: 'allowed',
      reason: 'coupon_discount_above_limit',
      detail: { field: 'coupon', basketId: id.slice(0, 64), discount, limit: maxDiscount },
    });
  }
}

/**
 * Juice Shop's basket routes: reading another user's basket, adding/updating items with a foreign or
 * duplicated `BasketId`, checking out or couponing a foreign basket -> authz_fail (with whether the app
 * allowed it); duplicate JSON keys -> malicious_direct_reference; checkout -> order_placed; invalid or
 * outsized coupons and negative quantities -> input_validation_fail.
 */
export function basketAudit(options: BasketAuditOptions, settings: ContextSettings = contextSettings(options)): RequestHandler {
  const sessions = options.sessions ?? new SessionDirectory();
  const maxDiscount = options.maxCouponDiscount ?? 50;
  const maxScanLength = options.maxScanLength ?? 1024 * 1024;

  return function a09BasketAudit(req: Request, res: Response, next: NextFunction): void {
    try {
      const context = ensureContext(req, res, settings);
      const route = context.route?.name;
      if (
        (route === 'basket' || route === 'basket-items' || route === 'basket-item' || route === 'checkout' || route === 'coupon') &&
        context.attach('basket-audit')
      ) {
        if (route === 'basket-items' || route === 'basket-item') {
          context.wantsBody = true;
          context.onDone((completion) => auditBasketItem(context, req, ownerOf(context, sessions), completion, maxScanLength));
        } else {
          const captured = captureBody(context, res);
          context.onDone((completion) => {
            const owner = ownerOf(context, sessions);
            if (route === 'basket') auditBasketRead(context, owner, sessions, captured, completion);
            else if (route === 'checkout') auditCheckout(context, owner, captured, completion);
            else auditCoupon(context, owner, captured, completion, maxDiscount);
          });
        }
      }
    } catch (error) {
      reportEmitError(settings, error);
    }
    next();
  };
}
