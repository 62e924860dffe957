import crypto from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { discountFromCoupon } from '../coupon';
import { isoFromSequelize, type BasketItemRow, type ProductRow } from '../db';
import { md5 } from '../security';
import type { RouteContext } from './context';

function productJson(product: ProductRow, item: BasketItemRow): Record<string, unknown> {
  return {
    ...product,
    createdAt: isoFromSequelize(product.createdAt),
    updatedAt: isoFromSequelize(product.updatedAt),
    deletedAt: isoFromSequelize(product.deletedAt),
    BasketItem: { ...item, createdAt: isoFromSequelize(item.createdAt), updatedAt: isoFromSequelize(item.updatedAt) },
  };
}

/** GET /rest/basket/:id: any authenticated user reads any basket (no ownership check). */
export function retrieveBasket(ctx: RouteContext): RequestHandler {
  return function retrieveBasket(req: Request, res: Response): void {
    const basket = ctx.db.findBasket(req.params.id);
    if (basket === undefined) {
      res.json({ status: 'success', data: {} });
      return;
    }
    const Products = ctx.db.basketProducts(basket.id).map(({ product, item }) => productJson(product, item));
    res.json({
      status: 'success',
      data: {
        id: basket.id, coupon: basket.coupon, UserId: basket.UserId,
        createdAt: isoFromSequelize(basket.createdAt), updatedAt: isoFromSequelize(basket.updatedAt), Products,
      },
    });
  };
}

/** POST /rest/basket/:id/checkout: places the order for whatever basket id is in the URL. */
export function placeOrder(ctx: RouteContext): RequestHandler {
  return function placeOrder(req: Request, res: Response, next: NextFunction): void {
    const id = req.params.id;
    const basket = ctx.db.findBasket(id);
    if (basket === undefined) {
      next(new Error(`Basket with id=${id} does not exist.`));
      return;
    }
    const customer = ctx.security.from(req);
    const email = customer?.data.email ?? '';
    const orderId = `${md5(email).slice(0, 4)}-${crypto.randomBytes(8).toString('hex')}`;
    let totalPrice = 0;
    let bonus = 0;
    const products = ctx.db.basketProducts(basket.id).map(({ product, item }) => {
      const total = product.price * item.quantity;
      const itemBonus = Math.round(product.price / 10) * item.quantity;
      totalPrice += total;
      bonus += itemBonus;
      return { quantity: item.quantity, id: product.id, name: product.name, price: product.price, total, bonus: itemBonus };
    });
    const discount = discountFromCoupon(basket.coupon) ?? 0;
    const promotionalAmount = discount > 0 ? (totalPrice * (discount / 100)).toFixed(2) : '0';
    totalPrice -= parseFloat(promotionalAmount);
    ctx.db.insertOrder({
      orderId, email: email.replace(/[aeiou]/gi, '*'), totalPrice, bonus, promotionalAmount, products: JSON.stringify(products),
    });
    ctx.db.setCoupon(basket.id, null);
    ctx.db.clearBasket(basket.id);
    res.json({ orderConfirmation: orderId });
  };
}

/** PUT /rest/basket/:id/coupon/:coupon: 200 `{discount}` for a coupon valid this month, else 404. */
export function applyCoupon(ctx: RouteContext): RequestHandler {
  return function applyCoupon(req: Request, res: Response, next: NextFunction): void {
    const id = req.params.id;
    let coupon: string | null | undefined;
    try {
      coupon = req.params.coupon ? decodeURIComponent(req.params.coupon) : undefined;
    } catch (error) {
      next(error);
      return;
    }
    const discount = discountFromCoupon(coupon);
    const basket = ctx.db.findBasket(id);
    if (basket === undefined) {
      next(new Error(`Basket with id=${id} does not exist.`));
      return;
    }
    ctx.db.setCoupon(basket.id, discount ? coupon ?? null : null);
    if (discount) {
      res.json({ discount });
    } else {
      res.status(404).send('Invalid coupon.');
    }
  };
}
