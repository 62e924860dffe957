import { LruMap } from './lru';

/**
 * What login responses taught us: the basket each user owns (`authentication.bid`). Juice Shop signs the
 * token before it sets `bid`, so a token may not carry it; the login response always does.
 */
export class SessionDirectory {
  private readonly basketByUser: LruMap<string, string>;

  constructor(maxUsers = 10000) {
    this.basketByUser = new LruMap(maxUsers);
  }

  learnBasket(userId: string, basketId: string): void {
    this.basketByUser.set(userId, basketId);
  }

  basketOf(userId: string): string | undefined {
    return this.basketByUser.get(userId);
  }
}
