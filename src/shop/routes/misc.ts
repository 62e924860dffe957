import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { messageOf } from '../errors';
import { bodyOf, type RouteContext } from './context';

/**
 * Routes that answer `res.status(500)` themselves, never reaching the error handler (Juice Shop has 11).
 * GET /rest/country-mapping: without `ctf.countryMapping` configured (the default) Juice Shop sends an empty 500.
 */
export function countryMapping(): RequestHandler {
  return function countryMapping(_req: Request, res: Response): void {
    res.status(500).send();
  };
}

/** PUT /rest/products/:id/reviews: a failed insert (no message) is answered 500 with the error message as JSON. */
export function createProductReviews(ctx: RouteContext): RequestHandler {
  return function createProductReviews(req: Request, res: Response): void {
    const body = bodyOf(req);
    try {
      ctx.db.insertReview(req.params.id, body.message, body.author);
      res.status(201).json({ status: 'success' });
    } catch (error) {
      res.status(500).json(messageOf(error));
    }
  };
}

const INDEX_HTML = '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>OWASP Juice Shop</title></head>'
  + '<body><app-root></app-root></body></html>\n';

/** The Angular catch-all: the client for any page, `Unexpected path` (500) for unknown /api and /rest URLs. */
export function serveAngularClient(): RequestHandler {
  return function serveAngularClient(req: Request, res: Response, next: NextFunction): void {
    if (!req.url.startsWith('/api') && !req.url.startsWith('/rest')) {
      res.type('html').send(INDEX_HTML);
    } else {
      next(new Error('Unexpected path: ' + req.url));
    }
  };
}
