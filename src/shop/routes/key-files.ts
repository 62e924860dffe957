import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { serveListing } from './log-files';

/**
 * Juice Shop serves its `encryptionkeys/` folder (jwt.pub, the RS256 public key) to anyone: the key an
 * attacker needs for the RS256 -> HS256 confusion. The practice shop holds its key in memory, so it lists and
 * serves that one file; any other name is a 404 as a missing file would be.
 */
export function serveKeyDirectory(): RequestHandler {
  return serveListing((done) => done(null, ['jwt.pub']));
}

export function serveKeyFiles(publicKeyPem: string): RequestHandler {
  return function serveKeyFile(req: Request, res: Response, next: NextFunction): void {
    const file = req.params.file ?? '';
    if (file.includes('/')) {
      res.status(403);
      next(new Error('File names cannot contain forward slashes!'));
      return;
    }
    if (file !== 'jwt.pub') {
      const error = Object.assign(new Error(`ENOENT: no such file or directory, stat 'encryptionkeys/${file}'`), {
        code: 'ENOENT',
        expose: false,
        status: 404,
        statusCode: 404,
      });
      next(error);
      return;
    }
    res.type('application/octet-stream').send(publicKeyPem);
  };
}
