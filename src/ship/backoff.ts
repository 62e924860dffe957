export interface BackoffOptions {
  /** First delay; default 100 ms. */
  initialMs?: number;
  /** Cap on the delay; default 5 s. */
  maxMs?: number;
  /** A number in [0, 1): injectable for tests. */
  random?: () => number;
}

/**
 * Capped exponential backoff with "equal jitter": the n-th delay lies in [d/2, d] with
 * d = min(maxMs, initialMs * 2^n). The cap bounds how long a restarted collector waits for us;
 * the jitter keeps many restarted senders from reconnecting in lockstep.
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = Math.max(1, options.initialMs ?? 100);
    this.maxMs = Math.max(this.initialMs, options.maxMs ?? 5000);
    this.random = options.random ?? Math.random;
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  next(): number {
    // The exponent stops growing once past the cap, so it can never overflow.
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.attempt, 40));
    this.attempt++;
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  reset(): void {
    this.attempt = 0;
  }
}
