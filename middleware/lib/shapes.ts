/**
 * Express 4 and 5 give every request and response a hidden class (V8 map) of its own, on V8 before 13
 * (Node 20 to 23): `Object.setPrototypeOf(res, app.response)` leaves the object on a map V8 treats as
 * detached, and V8 then adds each later property (Express's `res.locals`, body-parser's `req.body`, ...)
 * without recording a transition, so no two requests share a map. Every read of a `req`/`res` property in
 * Express, Node's http code, helmet and the app then misses V8's inline caches (~0.4 us each), and every
 * property added copies a map the garbage collector later sweeps.
 *
 * Adding and deleting one property moves such an object to dictionary mode, and V8 gives dictionary-mode
 * objects of the same constructor and prototype one shared map: the caches hit again and a lookup is a
 * hash probe. Measured on the practice shop's failing login (Node 20, bench/http-overhead.js): the whole
 * server ~70-90 us less CPU per request. Nothing a program can observe changes (keys, order, values,
 * descriptors). V8 13 (Node 24) keeps transitions for these maps, and dictionary mode would cost there
 * (+15 us a request in the same measure), so it is left alone.
 */

/** V8 before 13 loses the transitions (checked on 11.3, 12.4 and 12.9; fixed in 13.6). */
export const DETACHED_MAPS_LOSE_TRANSITIONS = Number(process.versions.v8.split('.')[0]) < 13;

const PROBE = Symbol('a09.shape');

/**
 * Put an object whose prototype was swapped (as Express swaps it) in dictionary mode; see above. One whose
 * prototype is its constructor's (a plain Node request, a subclass passed to http.createServer) keeps its
 * shared map and is left alone, as is a frozen, sealed or proxied object that refuses the property.
 * Returns whether it was changed.
 */
export function toSharedShape(target: object): boolean {
  try {
    const constructor = (target as { constructor?: unknown }).constructor;
    if (typeof constructor !== 'function' || Object.getPrototypeOf(target) === (constructor as { prototype?: unknown }).prototype) return false;
    const holder = target as Record<symbol, unknown>;
    holder[PROBE] = 0;
    delete holder[PROBE];
    return true;
  } catch {
    // Not extensible, or a proxy that throws: nothing to gain, nothing changed.
    return false;
  }
}
