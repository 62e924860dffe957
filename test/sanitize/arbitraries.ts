import fc from 'fast-check';

/** Characters a log injection uses, so that the generators hit them often rather than by luck. */
export const HOSTILE_CHARS = [
  '\n', '\r', '\t', '\0', '\x1b', '\x7f', '\x85', '\x9b', '\u2028', '\u2029', '\u202e', '\u2066', '\u2069',
  '\u200e', '\ufeff', '\ud800', '\udbff', '\udc00', '\udfff', '\\', '"', ']', '[', '=', ' ', '…', '\ud83d\ude00',
  '\\x1b', '\\n', '\\u2028',
];

/** Any sequence of UTF-16 code units, lone surrogates included. */
export const anyCodeUnits = fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)), maxLength: 60 });

/** Strings made mostly of hostile characters mixed with any code point and any code unit. */
export const hostileString = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_CHARS) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 0xffff }).map((code) => String.fromCharCode(code)) },
    { weight: 2, arbitrary: fc.constantFrom('a', 'B', '7', '.', '-', '_', ':', '/') },
  ),
  maxLength: 80,
});

export const anyString = fc.oneof(hostileString, anyCodeUnits, fc.string({ unit: 'binary' }));

/** Raw control, line separator, bidi/invisible format characters and lone surrogates: none may reach a sink. */
export const RAW_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]/u;
