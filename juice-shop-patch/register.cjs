'use strict';
/**
 * a09 preload for an unmodified OWASP Juice Shop (or the practice shop):
 *
 *   NODE_OPTIONS="--require /path/to/a09-lab/juice-shop-patch/register.cjs" node build/app.js
 *
 * Settings come from A09_* environment variables (see README.md beside this file). It depends only on this
 * folder and the built a09-lab package next to it (../dist and its node_modules), so it runs in the
 * distroless Juice Shop image. It never stops the shop: whatever it cannot do, it says on stderr.
 */
// NODE_OPTIONS preloads run in every worker thread too (a09's own shipping thread included): only the
// application's main thread is instrumented.
try {
  if (require('node:worker_threads').isMainThread) require('./lib/preload.cjs').startPreload();
} catch (error) {
  process.stderr.write(`a09 preload: REFUSED everything: ${error && error.message ? error.message : String(error)}; the shop runs without a09\n`);
}
