import { randomFillSync } from 'node:crypto';

/**
 * Random (version 4) UUIDs for request ids, as `crypto.randomUUID()` makes them, from a pool of random
 * bytes filled 256 ids at a time. randomUUID joins its 20 pieces into a chain of concatenated strings
 * (~600 bytes of garbage per id); this writes the 36 characters into one buffer and reads them out once.
 */
const IDS_PER_FILL = 256;
const pool = Buffer.alloc(16 * IDS_PER_FILL);
let next = IDS_PER_FILL;
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Where each of the 16 bytes goes in `xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`. */
const OFFSETS = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
const text = Buffer.from('00000000-0000-4000-8000-000000000000', 'latin1');

export function newRequestId(): string {
  if (next === IDS_PER_FILL) {
    randomFillSync(pool);
    next = 0;
  }
  const start = next * 16;
  next++;
  for (let i = 0; i < 16; i++) {
    let byte = pool[start + i]!;
    if (i === 6) byte = (byte & 0x0f) | 0x40; // version 4
    else if (i === 8) byte = (byte & 0x3f) | 0x80; // RFC 4122 variant
    const at = OFFSETS[i]!;
    text[at] = HEX[byte >> 4]!;
    text[at + 1] = HEX[byte & 15]!;
  }
  return text.toString('latin1');
}
