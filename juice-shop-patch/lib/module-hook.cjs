'use strict';
/**
 * Replace what `require('<name>')` returns for a few top-level packages, the way require-in-the-middle
 * (OpenTelemetry, Elastic APM) does it: by patching Module.prototype.require. We need three bare names
 * (express, errorhandler, morgan), so a few lines here beat a dependency the distroless image would have
 * to carry. Each package's exports are wrapped once and the same wrapper is returned on every require.
 */
const Module = require('node:module');

/**
 * @param {Record<string, (exports: unknown) => unknown>} wrappers package name -> wrap(exports)
 * @param {() => boolean} bypass true while the preload loads its own modules (they get the originals)
 * @returns {() => void} unhook
 */
function hookRequire(wrappers, bypass) {
  const originalRequire = Module.prototype.require;
  const wrapped = new Map();
  const hooked = function a09Require(id) {
    const exports = Reflect.apply(originalRequire, this, arguments);
    if (typeof id !== 'string' || !Object.prototype.hasOwnProperty.call(wrappers, id) || bypass()) return exports;
    let byExports = wrapped.get(id);
    if (byExports === undefined) {
      byExports = new WeakMap();
      wrapped.set(id, byExports);
    }
    if (exports === null || (typeof exports !== 'object' && typeof exports !== 'function')) return exports;
    let result = byExports.get(exports);
    if (result === undefined) {
      try {
        result = wrappers[id](exports);
      } catch {
        result = exports;
      }
      byExports.set(exports, result);
    }
    return result;
  };
  // Keep require.resolve, require.cache etc. working for code that reads them off the prototype function.
  Object.setPrototypeOf(hooked, originalRequire);
  Module.prototype.require = hooked;
  return () => {
    if (Module.prototype.require === hooked) Module.prototype.require = originalRequire;
  };
}

module.exports = { hookRequire };
