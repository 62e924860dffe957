/**
 * Payment card numbers in free text: 13-19 digits passing the Luhn check, written whole or in groups
 * separated by one space or dash (`4111 1111 1111 1111`, `5555-5555-5555-4444`, `3782 822463 10005`).
 * Hand-written: the check is ten lines, and a scanner of our own is linear by construction.
 */

export const CARD_LABEL = '[REDACTED:card]';

/** Luhn (mod 10) over the digits of `digits` (only '0'..'9' expected). */
export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let index = digits.length - 1; index >= 0; index -= 1) {
    let digit = digits.charCodeAt(index) - 48;
    if (double) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
    double = !double;
  }
  return sum % 10 === 0;
}

/**
 * Issuer's first digit and length as the networks use them: 1 UATP (15), 2 Mastercard 2-series and Mir
 * (16-19), 3 Diners/Amex/JCB (14-19), 4 Visa, 5 Mastercard/Maestro, 6 Discover/UnionPay/Maestro (13-19).
 * This spares epoch milliseconds (13 digits starting 1-3 until the year 2096) and most order numbers.
 */
function plausibleIssuer(digits: string): boolean {
  const length = digits.length;
  switch (digits.charCodeAt(0) - 48) {
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
/** Maximal runs of digit groups joined by single separators; no two ways to match a run, so linear. */
const DIGIT_RUNS = /\d+(?:[ -]\d+)*/g;

function isWordChar(code: number): boolean {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95;
}

interface Group {
  start: number;
  end: number;
}

/**
 * Replace card numbers in `value` with the label. A card may be a window of consecutive groups inside a
 * longer run (`order 12 4111 1111 1111 1111`), grouped as cards are written, and not glued to letters or
 * digits (`a716-446655440000` in a UUID is not a card). Work: each group starts at most 19 windows of at most 19 groups.
 */
export function redactCards(value: string, requireIssuerPrefix: boolean): string {
  if (!MAYBE_CARD.test(value)) return value;
  let out = '';
  let flushedTo = 0;
  DIGIT_RUNS.lastIndex = 0;
  for (let match = DIGIT_RUNS.exec(value); match !== null; match = DIGIT_RUNS.exec(value)) {
    const runStart = match.index;
    const run = match[0];
    if (run.length < 13) continue;
    const groups: Group[] = [];
    const groupPattern = /\d+/g;
    for (let group = groupPattern.exec(run); group !== null; group = groupPattern.exec(run)) {
      groups.push({ start: runStart + group.index, end: runStart + group.index + group[0].length });
    }
    let first = 0;
    while (first < groups.length) {
      const found = cardAt(value, groups, first, requireIssuerPrefix);
      if (found < 0) {
        first += 1;
        continue;
      }
      out += value.slice(flushedTo, groups[first].start) + CARD_LABEL;
      flushedTo = groups[found].end;
      first = found + 1;
    }
  }
  return flushedTo === 0 ? value : out + value.slice(flushedTo);
}

/**
 * How cards are written: whole (13-19 digits), in fours with a shorter last group (`4111 1111 1111 1111`,
 * `4111 1111 1111 1111 111`), or Amex/Diners style 4-6-5 / 4-6-4. Other groupings (a UUID's 4-12, a
 * list of numbers) are not read as one card. `lengths` are the group lengths of a window so far; the
 * answer for a window is `cardGrouping`, and `canGrow` says whether a longer window could still qualify.
 */
function cardGrouping(lengths: readonly number[]): boolean {
  const count = lengths.length;
  if (count === 1) return true;
  if (count === 3 && lengths[0] === 4 && lengths[1] === 6 && (lengths[2] === 4 || lengths[2] === 5)) return true;
  for (let index = 0; index < count - 1; index += 1) if (lengths[index] !== 4) return false;
  return lengths[count - 1] <= 4;
}

function canGrow(lengths: readonly number[]): boolean {
  const count = lengths.length;
  const last = lengths[count - 1];
  if (count === 1) return last === 4;
  if (count === 2 && lengths[0] === 4 && last === 6) return true;
  return last === 4 && lengths.every((length) => length === 4);
}

/** The index of the last group of a card that starts at group `first`, or -1. */
function cardAt(value: string, groups: Group[], first: number, requireIssuerPrefix: boolean): number {
  const start = groups[first].start;
  if (start > 0 && isWordChar(value.charCodeAt(start - 1))) return -1;
  let digits = '';
  const lengths: number[] = [];
  for (let last = first; last < groups.length; last += 1) {
    digits += value.slice(groups[last].start, groups[last].end);
    lengths.push(groups[last].end - groups[last].start);
    if (digits.length > 19) return -1;
    if (digits.length < 13) {
      if (!canGrow(lengths)) return -1;
      continue;
    }
    const end = groups[last].end;
    if (end < value.length && isWordChar(value.charCodeAt(end))) continue;
    if (cardGrouping(lengths) && luhnValid(digits) && (!requireIssuerPrefix || plausibleIssuer(digits))) return last;
    if (!canGrow(lengths)) return -1;
  }
  return -1;
}
