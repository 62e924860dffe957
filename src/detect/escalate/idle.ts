/** Waiters for a queue to drain: `wait` resolves true when `wake` runs, or false after timeoutMs. */
export class IdleWaiters {
  private readonly waiters: Array<() => void> = [];

  async wait(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      new Promise<boolean>((resolve) => this.waiters.push(() => resolve(true))),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    return result;
  }

  /** The queue is empty: every waiter resolves true. */
  wake(): void {
    for (const wake of this.waiters.splice(0)) wake();
  }
}
