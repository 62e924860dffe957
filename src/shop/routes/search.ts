import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { SequelizeDatabaseError } from '../errors';
import type { RouteContext } from './context';

/**
 * GET /rest/products/search?q: the criteria go into the SQL text (UNION-based SQL injection works);
 * on a SQL error the driver error (with its `sql`) goes to the error handler, as `next(error.parent)` does.
 */
export function searchProducts(ctx: RouteContext): RequestHandler {
  return function searchProducts(req: Request, res: Response, next: NextFunction): void {
    const q: unknown = req.query.q;
    let criteria = q === 'undefined' || q === undefined ? '' : String(q);
    criteria = criteria.length <= 200 ? criteria : criteria.substring(0, 200);
    try {
      const products = ctx.db.rawAll(
        `SELECT * FROM Products WHERE ((name LIKE '%${criteria}%' OR description LIKE '%${criteria}%') AND deletedAt IS NULL) ORDER BY name`);
      res.json({ status: 'success', data: products });
    } catch (error) {
      next(error instanceof SequelizeDatabaseError ? error.parent : error);
    }
  };
}
