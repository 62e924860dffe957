import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { md5 } from '../security';
import type { RouteContext } from './context';

function queryText(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/**
 * GET /rest/user/change-password?current&new&repeat: the passwords travel in the URL (so into every access log).
 * No token -> `Error: Blocked illegal activity by <ip>` (500 through the error handler).
 */
export function changePassword(ctx: RouteContext): RequestHandler {
  return function changePassword(req: Request, res: Response, next: NextFunction): void {
    const currentPassword = queryText(req.query.current);
    const newPassword = queryText(req.query.new);
    const repeatPassword = queryText(req.query.repeat);
    if (!newPassword || newPassword === 'undefined') {
      res.status(401).send('Password cannot be empty.');
      return;
    } else if (newPassword !== repeatPassword) {
      res.status(401).send('New and repeated password do not match.');
      return;
    }
    const header = req.headers.authorization;
    // Juice Shop cuts 'Bearer='.length characters, whatever the scheme.
    const token = header ? header.substring('Bearer='.length) : null;
    const loggedInUser = token === null ? undefined : ctx.security.get(token);
    if (loggedInUser === undefined) {
      next(new Error('Blocked illegal activity by ' + String(req.socket.remoteAddress)));
      return;
    }
    if (currentPassword && md5(currentPassword) !== loggedInUser.data.password) {
      res.status(401).send('Current password is not correct.');
      return;
    }
    const user = ctx.db.updatePassword(loggedInUser.data.id, newPassword);
    if (user === undefined) {
      res.status(404).send('User not found.');
      return;
    }
    ctx.audit.passwordChanged(loggedInUser.data.email);
    res.json({ user });
  };
}

/** GET /rest/user/whoami: the user behind the `token` cookie (Juice Shop reads the cookie, not the header). */
export function retrieveLoggedInUser(ctx: RouteContext): RequestHandler {
  return function retrieveLoggedInUser(req: Request, res: Response): void {
    const emptyUser = { id: undefined, email: undefined, lastLoginIp: undefined, profileImage: undefined };
    let response: { user: Record<string, unknown> } = { user: emptyUser };
    const cookieToken = (req.cookies as Record<string, string> | undefined)?.token;
    if (ctx.security.verify(cookieToken)) {
      const user = ctx.security.get(cookieToken);
      const fields = typeof req.query.fields === 'string' ? req.query.fields.split(',').map((field) => field.trim()) : [];
      const data = (user?.data ?? {}) as Record<string, unknown>;
      if (fields.length > 0) {
        const picked: Record<string, unknown> = {};
        for (const field of fields) if (data[field] !== undefined) picked[field] = data[field];
        response = { user: picked };
      } else {
        response = { user: { id: data.id, email: data.email, lastLoginIp: data.lastLoginIp, profileImage: data.profileImage } };
      }
    }
    if (req.query.callback === undefined) {
      res.json(response);
    } else {
      res.jsonp(response);
    }
  };
}
