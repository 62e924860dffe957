import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { isoFromSequelize } from '../db';
import { parseJsonPairs } from '../json-pairs';
import { bodyOf, type RouteContext } from './context';

type Quantity = unknown;

/** Stock and per-user limit check before an item is added or changed (negative quantities pass, as in Juice Shop). */
function quantityCheck(ctx: RouteContext, res: Response, next: NextFunction, productId: unknown, quantity: Quantity): void {
  const product = ctx.db.findQuantity(productId);
  if (product === undefined) throw new Error('No such product found!');
  const wanted = quantity as number;
  if (!product.limitPerUser || product.limitPerUser >= wanted) {
    if (product.quantity >= wanted) {
      next();
    } else {
      res.status(400).json({ error: 'We are out of stock! Sorry for the inconvenience.' });
    }
  } else {
    res.status(400).json({ error: `You can order only up to ${product.limitPerUser} items of this product.` });
  }
}

export function quantityCheckBeforeBasketItemAddition(ctx: RouteContext): RequestHandler {
  return function quantityCheckBeforeBasketItemAddition(req: Request, res: Response, next: NextFunction): void {
    const body = bodyOf(req);
    try {
      quantityCheck(ctx, res, next, body.ProductId, body.quantity);
    } catch (error) {
      next(error);
    }
  };
}

/**
 * POST /api/BasketItems. The ownership check reads the FIRST `BasketId` in the raw JSON text, the insert uses
 * the LAST one: `{"BasketId":"1",...,"BasketId":"2"}` puts an item into basket 2 with a token for basket 1.
 */
export function addBasketItem(ctx: RouteContext): RequestHandler {
  return function addBasketItem(req: Request, res: Response, next: NextFunction): void {
    const rawBody: unknown = (req as Request & { rawBody?: unknown }).rawBody;
    const productIds: unknown[] = [];
    const basketIds: unknown[] = [];
    const quantities: unknown[] = [];
    try {
      if (typeof rawBody !== 'string') throw new TypeError('Invalid JSON: the request body is not text');
      for (const { key, value } of parseJsonPairs(rawBody)) {
        if (key === 'ProductId') productIds.push(value);
        else if (key === 'BasketId') basketIds.push(value);
        else if (key === 'quantity') quantities.push(value);
      }
    } catch (error) {
      next(error);
      return;
    }
    const user = ctx.security.from(req);
    const claimed = basketIds[0];
    if (user && claimed && claimed !== 'undefined' && Number(user.bid) !== Number(claimed)) {
      res.status(401).send("{'error' : 'Invalid BasketId'}");
      return;
    }
    try {
      const saved = ctx.db.insertBasketItem({
        ProductId: productIds[productIds.length - 1],
        BasketId: basketIds[basketIds.length - 1],
        quantity: quantities[quantities.length - 1],
      });
      res.json({ status: 'success', data: saved });
    } catch (error) {
      next(error);
    }
  };
}

export function quantityCheckBeforeBasketItemUpdate(ctx: RouteContext): RequestHandler {
  return function quantityCheckBeforeBasketItemUpdate(req: Request, res: Response, next: NextFunction): void {
    const body = bodyOf(req);
    try {
      const item = ctx.db.findBasketItem(req.params.id);
      if (body.quantity) {
        if (item === undefined) throw new Error('No such item found!');
        quantityCheck(ctx, res, next, item.ProductId, body.quantity);
      } else {
        next();
      }
    } catch (error) {
      next(error);
    }
  };
}

/** PUT /api/BasketItems/:id (finale's update): any attribute in the body is written, BasketId included; no ownership check. */
export function updateBasketItem(ctx: RouteContext): RequestHandler {
  return function updateBasketItem(req: Request, res: Response, next: NextFunction): void {
    const body = bodyOf(req);
    const item = ctx.db.findBasketItem(req.params.id);
    if (item === undefined) {
      res.status(404).json({ message: 'Not Found', errors: [] });
      return;
    }
    try {
      const updated = ctx.db.updateBasketItem(item.id, { ProductId: body.ProductId, BasketId: body.BasketId, quantity: body.quantity });
      res.json({ status: 'success', data: updated === undefined ? {} : { ...updated, createdAt: isoFromSequelize(updated.createdAt), updatedAt: isoFromSequelize(updated.updatedAt) } });
    } catch (error) {
      next(error);
    }
  };
}
