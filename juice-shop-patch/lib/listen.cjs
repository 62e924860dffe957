'use strict';
/**
 * Juice Shop calls `server.listen(port, callback)`: all interfaces, no host option. To keep a lab shop on
 * loopback, the preload rewrites the listen arguments of the app's own server to carry a host.
 */
const net = require('node:net');

function isPort(value) {
  return (typeof value === 'number' && Number.isInteger(value)) || (typeof value === 'string' && /^\d+$/.test(value));
}

/**
 * The same call with `host` forced. Unix sockets and handles are left alone (nothing to bind).
 * @param {unknown[]} args what `server.listen(...)` was given
 * @param {string} host
 * @returns {{ args: unknown[], forced: boolean }}
 */
function listenArgsWithHost(args, host) {
  const [first, second, ...rest] = args;
  if (args.length === 0 || typeof first === 'function') return { args: [0, host, ...args], forced: true };
  if (isPort(first)) {
    if (typeof second === 'string') return { args: [first, host, ...rest], forced: true };
    return { args: second === undefined && args.length === 1 ? [first, host] : [first, host, second, ...rest], forced: true };
  }
  if (first !== null && typeof first === 'object' && !('_handle' in first) && !('fd' in first) && !('path' in first)) {
    return { args: [{ ...first, host }, ...args.slice(1)], forced: true };
  }
  return { args, forced: false };
}

/**
 * Calls `onListen(server, args)` before every `listen` of a net.Server; it may return new arguments.
 * @returns {() => void} unhook
 */
function hookListen(onListen) {
  const originalListen = net.Server.prototype.listen;
  const hooked = function a09Listen(...args) {
    let callArgs = args;
    try {
      callArgs = onListen(this, args) ?? args;
    } catch {
      callArgs = args;
    }
    return Reflect.apply(originalListen, this, callArgs);
  };
  net.Server.prototype.listen = hooked;
  return () => {
    if (net.Server.prototype.listen === hooked) net.Server.prototype.listen = originalListen;
  };
}

module.exports = { listenArgsWithHost, hookListen };
