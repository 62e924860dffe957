import type { ErrorRequestHandler } from 'express';
import type { FixedHooksFactory, FixedModeContext, ShopHooks } from './types';

/**
 * Combines the mode's hooks with the caller's: arrays run mode first, the caller's access log replaces the
 * mode's, both onApp/close run, and the caller's error wrapper wraps the last handler the mode mounts.
 */
export function mergeHooks(mode: ShopHooks, extra: ShopHooks = {}): ShopHooks {
  const modeWrap = mode.wrapErrorHandler;
  const extraWrap = extra.wrapErrorHandler;
  let wrapErrorHandler: ShopHooks['wrapErrorHandler'] = modeWrap ?? extraWrap;
  if (modeWrap !== undefined && extraWrap !== undefined) {
    wrapErrorHandler = (handler: ErrorRequestHandler) => {
      const inner = [modeWrap(handler)].flat();
      const responder = inner.pop() ?? handler;
      return [...inner, ...[extraWrap(responder)].flat()];
    };
  }
  return {
    first: [...(mode.first ?? []), ...(extra.first ?? [])],
    afterJsonParser: [...(mode.afterJsonParser ?? []), ...(extra.afterJsonParser ?? [])],
    replaceAccessLog: extra.replaceAccessLog ?? mode.replaceAccessLog,
    onApp: mode.onApp !== undefined || extra.onApp !== undefined
      ? (app) => {
        mode.onApp?.(app);
        extra.onApp?.(app);
      }
      : undefined,
    wrapErrorHandler,
    helmet: mode.helmet === true || extra.helmet === true,
    close: async () => {
      await extra.close?.();
      await mode.close?.();
    },
  };
}

/** Duck-typed: module loaders (jest's among them) may throw errors from another realm, failing instanceof. */
function isMissingModule(error: unknown, name: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  return code === 'MODULE_NOT_FOUND' && typeof message === 'string' && message.includes(`'${name}'`);
}

function requireFixedModule(): unknown {
  const modulePath = './fixed';
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(modulePath);
}

/**
 * fixed mode: `fixedHooks(context)` exported by ./fixed (src/shop/fixed.ts, written by the middleware helper).
 * Loaded at run time so the shop builds and runs stock/naive before that file exists. `load` is for tests.
 */
export async function loadFixedHooks(context: FixedModeContext, load: () => unknown = requireFixedModule): Promise<ShopHooks> {
  let loaded: unknown;
  try {
    loaded = load();
  } catch (error) {
    if (isMissingModule(error, './fixed')) {
      throw new Error("Shop mode 'fixed' is not available: src/shop/fixed.ts (fixedHooks, written by the middleware work) does not exist yet");
    }
    throw error;
  }
  const factory = (loaded as { fixedHooks?: unknown } | undefined)?.fixedHooks;
  if (typeof factory !== 'function') {
    throw new Error("Shop mode 'fixed': src/shop/fixed.ts must export fixedHooks(context: FixedModeContext): ShopHooks | Promise<ShopHooks>");
  }
  return await (factory as FixedHooksFactory)(context);
}
