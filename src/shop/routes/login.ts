import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { md5 } from '../security';
import { asText, bodyOf, type RouteContext } from './context';

/**
 * POST /rest/user/login, as Juice Shop v20.1.1 builds it: the query is string concatenation, so
 * `' OR 1=1--` logs in as the first user (admin) and a lone quote is a 500 with the SQLite error.
 */
export function login(ctx: RouteContext): RequestHandler {
  return function login(req: Request, res: Response, next: NextFunction): void {
    const body = bodyOf(req);
    const email = asText(body.email);
    // md5 of a non-string password throws, as crypto does in Juice Shop.
    const passwordHash = md5((body.password || '') as string);
    let row: Record<string, unknown> | undefined;
    try {
      row = ctx.db.rawFirst(`SELECT * FROM Users WHERE email = '${email}' AND password = '${passwordHash}' AND deletedAt IS NULL`);
    } catch (error) {
      next(error);
      return;
    }
    const user = row === undefined ? undefined : ctx.db.userJsonFromRow(row);
    if (user?.id && user.totpSecret !== '') {
      ctx.audit.secondFactorRequired(email);
      res.status(401).json({
        status: 'totp_token_required',
        data: { tmpToken: ctx.security.authorize({ userId: user.id, type: 'password_valid_needs_second_factor_token' }) },
      });
    } else if (user?.id) {
      const bid = ctx.db.basketIdForUser(user.id);
      const authenticatedUser = { data: user, bid };
      const token = ctx.security.authorize(authenticatedUser);
      ctx.security.put(token, authenticatedUser);
      ctx.audit.loginSucceeded(email);
      res.json({ authentication: { token, bid, umail: user.email } });
    } else {
      ctx.audit.loginFailed(email);
      res.status(401).send('Invalid email or password.');
    }
  };
}
