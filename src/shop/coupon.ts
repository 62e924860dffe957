/**
 * Juice Shop coupons: Z85 (ZeroMQ RFC 32) of `MMMYY-NN`, valid in the month they name.
 * Our own Z85 codec.
 */
const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];

export function z85Encode(data: Buffer): string | null {
  if (data.length % 4 !== 0) return null;
  let out = '';
  for (let offset = 0; offset < data.length; offset += 4) {
    let value = data.readUInt32BE(offset);
    let block = '';
    for (let i = 0; i < 5; i++) {
      block = ALPHABET[value % 85] + block;
      value = Math.floor(value / 85);
    }
    out += block;
  }
  return out;
}

export function z85Decode(text: string): Buffer | null {
  if (text.length % 5 !== 0) return null;
  const out = Buffer.alloc((text.length / 5) * 4);
  for (let offset = 0; offset < text.length; offset += 5) {
    let value = 0;
    for (let i = 0; i < 5; i++) {
      const digit = ALPHABET.indexOf(text[offset + i]);
      if (digit < 0) return null;
      value = value * 85 + digit;
    }
    if (value > 0xffffffff) return null;
    out.writeUInt32BE(value, (offset / 5) * 4);
  }
  return out;
}

export function toMMMYY(date: Date): string {
  return MONTHS[date.getMonth()] + date.getFullYear().toString().substring(2, 4);
}

/** A coupon worth `discount` percent in the month of `date` (discount is two digits). */
export function generateCoupon(discount: number, date = new Date()): string {
  const text = `${toMMMYY(date)}-${String(discount).padStart(2, '0')}`;
  return z85Encode(Buffer.from(text)) ?? '';
}

/** The discount in percent, or undefined when the coupon is malformed or not valid this month. */
export function discountFromCoupon(coupon: string | null | undefined, now = new Date()): number | undefined {
  if (!coupon) return undefined;
  const decoded = z85Decode(coupon);
  if (decoded === null) return undefined;
  const text = decoded.toString();
  if (!/(JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)[0-9]{2}-[0-9]{2}/.test(text)) return undefined;
  const [validity, discount] = text.split('-');
  if (validity !== toMMMYY(now)) return undefined;
  const percent = parseInt(discount, 10);
  return Number.isNaN(percent) || percent === 0 ? undefined : percent;
}
