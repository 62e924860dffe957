import { newRequestId } from '../../middleware/lib/request-id';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('newRequestId', () => {
  it('makes version 4 UUIDs, all distinct, across many refills of its pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const id = newRequestId();
      expect(id).toMatch(UUID_V4);
      seen.add(id);
    }
    expect(seen.size).toBe(20_000);
  });

  it('uses every hex digit in every random position (not a fixed or biased pattern)', () => {
    const digitsAt = Array.from({ length: 36 }, () => new Set<string>());
    for (let i = 0; i < 4_000; i++) {
      const id = newRequestId();
      for (let at = 0; at < 36; at++) digitsAt[at]!.add(id[at]!);
    }
    for (let at = 0; at < 36; at++) {
      const expected = [8, 13, 18, 23].includes(at) ? 1 : at === 14 ? 1 : at === 19 ? 4 : 16;
      expect({ at, digits: digitsAt[at]!.size }).toEqual({ at, digits: expected });
    }
  });

  it('returns a string of its own (the buffer it writes into is reused)', () => {
    const first = newRequestId();
    const copy = `${first}`;
    newRequestId();
    expect(first).toBe(copy);
  });
});
