import fs from 'node:fs';
import path from 'node:path';
import type { NextFunction, Request, RequestHandler, Response } from 'express';

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * A directory listing as serve-index answers it in Juice Shop: HTML by default, a JSON array of names for
 * `Accept: application/json`, one name a line for text/plain; anything that is not the directory itself goes
 * on to the file route. `list` yields the names (undefined: no such directory, next()).
 */
export function serveListing(list: (done: (error: NodeJS.ErrnoException | null, names?: string[]) => void) => void): RequestHandler {
  return function serveIndex(req: Request, res: Response, next: NextFunction): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      next();
      return;
    }
    if (req.path !== '/' && req.path !== '') {
      next();
      return;
    }
    list((error, files) => {
      if (error) {
        next(error.code === 'ENOENT' ? undefined : error);
        return;
      }
      if (files === undefined) {
        next();
        return;
      }
      const type = req.accepts(['text/html', 'text/plain', 'application/json']);
      if (type === 'application/json') {
        res.type('application/json').send(JSON.stringify(files));
      } else if (type === 'text/plain') {
        res.type('text/plain').send(files.map((name) => `${name}\n`).join(''));
      } else if (type === 'text/html') {
        const listed = req.originalUrl.replace(/\?.*$/, '').replace(/\/?$/, '/');
        const folder = listed.split('/').filter(Boolean).pop() ?? '';
        const rows = files.map((name) => `<li><a href="${escapeHtml(`${folder}/${encodeURIComponent(name)}`)}" class="icon icon-file" title="${escapeHtml(name)}"><span class="name">${escapeHtml(name)}</span></a></li>`);
        res.type('text/html').send(`<!DOCTYPE html>\n<html><head><meta charset="utf-8"><title>listing directory ${escapeHtml(listed)}</title></head>`
          + `<body class="directory"><div id="wrapper"><h1>~ ${escapeHtml(listed)}</h1><ul id="files" class="view-details">`
          + `${rows.join('\n')}</ul></div></body></html>`);
      } else {
        res.status(406).type('text/plain').send('Not Acceptable');
      }
    });
  };
}

/** /support/logs directory listing: dotfiles hidden, folders first, then by name. */
export function serveLogDirectory(directory: string): RequestHandler {
  return serveListing((done) => {
    fs.readdir(directory, { withFileTypes: true }, (error, entries) => {
      if (error) {
        done(error);
        return;
      }
      done(null, entries
        .filter((entry) => !entry.name.startsWith('.'))
        .sort((a, b) => Number(b.isDirectory()) - Number(a.isDirectory())
          || a.name.toLocaleLowerCase().localeCompare(b.name.toLocaleLowerCase()))
        .map((entry) => entry.name));
    });
  });
}

/**
 * routes/logfileServer.ts: any name without a slash is sent from the log directory. A missing file reaches the
 * error handler as send reports it: the fs.stat error itself (ENOENT with the absolute path) marked 404 the way
 * http-errors marks it. We stat first ourselves because send's `instanceof Error` test fails across realms
 * (under jest), which would replace the ENOENT error with a bare NotFoundError.
 */
export function serveLogFiles(directory: string): RequestHandler {
  return function serveLogFile(req: Request, res: Response, next: NextFunction): void {
    const file = req.params.file ?? '';
    if (file.includes('/')) {
      res.status(403);
      next(new Error('File names cannot contain forward slashes!'));
      return;
    }
    const absolute = path.resolve(directory, file);
    fs.stat(absolute, (error) => {
      if (error === null) {
        res.sendFile(absolute);
        return;
      }
      const status = ['ENOENT', 'ENAMETOOLONG', 'ENOTDIR'].includes(error.code ?? '') ? 404 : 500;
      Object.assign(error, { expose: false, status, statusCode: status });
      next(error);
    });
  };
}
