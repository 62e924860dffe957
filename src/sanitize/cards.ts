/**
 * Payment card numbers in free text: 13-19 digits passing the Luhn check, written whole or in groups
 * separated by one space or dash (`4111 1111 1111 1111`, `5555-5555-5555-4444`, `3782 822463 10005`).
 * Hand-written: the check is ten lines, and a scanner of our own is linear by construction.
 */

export const CARD_LABEL = '[REDACTED:card]';

/** Luhn (mod 10) over the digits of `digits` (only '0'..'9' expected). */
export function luhnValid(digits: string): boolean {
  return luhnOverGroups(digits, [0], [digits.length], 0, 0);
}

/**
 * Issuer's first digit and length as the networks use them: 1 UATP (15), 2 Mastercard 2-series and Mir
 * (16-19), 3 Diners/Amex/JCB (14-19), 4 Visa, 5 Mastercard/Maestro, 6 Discover/UnionPay/Maestro (13-19).
 * This spares epoch milliseconds (13 digits starting 1-3 until the year 2096) and most order numbers.
 */
function plausibleIssuer(firstDigit: string, length: number): boolean {
  switch (firstDigit.charCodeAt(0) - 48) {
    case 1:
      return length === 15;
    case 2:
      return length >= 16;
    case 3:
      return length >= 14;
    case 4:
    case 5:
    case 6:
      return true;
    default:
      return false;
  }
}

/** Gate: at least 13 digits with at most one separator between them. Bounded repetition: linear. */
const MAYBE_CARD = /\d(?:[ -]?\d){12}/;

function isDigit(code: number): boolean {
  return code >= 48 && code <= 57;
}

function isWordChar(code: number): boolean {
  return isDigit(code) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

/**
 * Replace card numbers in `value` with the label. A card may be a window of consecutive digit groups inside
 * a longer run (`order 12 4111 1111 1111 1111`), grouped as cards are written, and not glued to letters or
 * digits (`a716-446655440000` in a UUID is not a card). One pass over the text; each group starts at most
 * a few windows (see canGrow), each of at most 19 digits.
 */
export function redactCards(value: string, requireIssuerPrefix: boolean): string {
  if (!MAYBE_CARD.test(value)) return value;
  let out = '';
  let flushedTo = 0;
  const starts: number[] = [];
  const ends: number[] = [];
  const length = value.length;
  let index = 0;
  while (index < length) {
    if (!isDigit(value.charCodeAt(index))) {
      index += 1;
      continue;
    }
    // A run: digit groups joined by single spaces or dashes.
    starts.length = 0;
    ends.length = 0;
    let cursor = index;
    for (;;) {
      starts.push(cursor);
      while (cursor < length && isDigit(value.charCodeAt(cursor))) cursor += 1;
      ends.push(cursor);
      const separator = value.charCodeAt(cursor);
      if ((separator === 32 || separator === 45) && isDigit(value.charCodeAt(cursor + 1))) {
        cursor += 1;
        continue;
      }
      break;
    }
    index = cursor;
    let first = 0;
    while (first < starts.length) {
      const found = cardAt(value, starts, ends, first, requireIssuerPrefix);
      if (found < 0) {
        first += 1;
        continue;
      }
      out += value.slice(flushedTo, starts[first]) + CARD_LABEL;
      flushedTo = ends[found];
      first = found + 1;
    }
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

/**
 * How cards are written: whole (13-19 digits), in fours with a shorter last group (`4111 1111 1111 1111`,
 * `4111 1111 1111 1111 111`), or Amex/Diners style 4-6-5 / 4-6-4. Other groupings (a UUID's 4-12, a
 * list of numbers) are not read as one card. `lengths` are the group lengths of a window so far.
 */
function cardGrouping(lengths: readonly number[]): boolean {
  const count = lengths.length;
  if (count === 1) return true;
  if (count === 3 && lengths[0] === 4 && lengths[1] === 6 && (lengths[2] === 4 || lengths[2] === 5)) return true;
  for (let index = 0; index < count - 1; index += 1) if (lengths[index] !== 4) return false;
  return lengths[count - 1] <= 4;
}

/** Whether a window with these group lengths could still become a card by taking in the next group. */
function canGrow(lengths: readonly number[]): boolean {
  const count = lengths.length;
  const last = lengths[count - 1];
  if (count === 1) return last === 4;
  if (count === 2 && lengths[0] === 4 && last === 6) return true;
  return last === 4 && lengths.every((length) => length === 4);
}

/** Luhn over the digits of groups first..last, read in place. */
function luhnOverGroups(value: string, starts: readonly number[], ends: readonly number[], first: number, last: number): boolean {
  let sum = 0;
  let double = false;
  for (let group = last; group >= first; group -= 1) {
    for (let index = ends[group] - 1; index >= starts[group]; index -= 1) {
      let digit = value.charCodeAt(index) - 48;
      if (double) {
        digit *= 2;
        if (digit > 9) digit -= 9;
      }
      sum += digit;
      double = !double;
    }
  }
  return sum % 10 === 0;
}

/** The index of the last group of a card that starts at group `first`, or -1. */
function cardAt(value: string, starts: readonly number[], ends: readonly number[], first: number, requireIssuerPrefix: boolean): number {
  const start = starts[first];
  if (start > 0 && isWordChar(value.charCodeAt(start - 1))) return -1;
  let digitCount = 0;
  const lengths: number[] = [];
  for (let last = first; last < starts.length; last += 1) {
    const groupLength = ends[last] - starts[last];
    digitCount += groupLength;
    lengths.push(groupLength);
    if (digitCount > 19) return -1;
    if (digitCount >= 13) {
      const end = ends[last];
      const glued = end < value.length && isWordChar(value.charCodeAt(end));
      if (
        !glued &&
        cardGrouping(lengths) &&
        luhnOverGroups(value, starts, ends, first, last) &&
        (!requireIssuerPrefix || plausibleIssuer(value.slice(start, start + 1), digitCount))
      ) {
        return last;
      }
    }
    if (!canGrow(lengths)) return -1;
  }
  return -1;
}
