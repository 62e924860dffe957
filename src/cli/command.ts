
/** A mistake in how the command was called: shown with the command's usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A failure the user can act on (unreachable target, missing file): shown as one line, exit code 1. */
export class UserError extends Error {
  override name = 'UserError';
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  /** Resolves to the process exit code. */
  run(argv: string[]): Promise<number>;
}

/** Runs a node:util parseArgs call, turning its complaints (unknown flag, missing value) into UsageErrors. */
export function usageErrors<R>(parse: () => R): R {
  try {
    return parse();
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

/** `host:port`, `:port` or `port` -> { host, port }; the host defaults to loopback. */
export function parseAddress(value: string, flag: string): { host: string; port: number } {
  const match = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(value.trim());
  const port = match ? Number(match[2]) : NaN;
  if (!match || port > 65535) throw new UsageError(`${flag} wants host:port or a port, not '${value}'`);
  return { host: match[1] ? match[1] : '127.0.0.1', port };
}

/** Resolves with the first SIGINT or SIGTERM, then stops listening: a long-running command's Ctrl-C. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
