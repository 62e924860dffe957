/**
 * A list of case-insensitive regular expressions tested as one alternation (one pass per text); the
 * individual expressions are consulted only to say which one matched, after a hit.
 */
export class PatternSet {
  private readonly combined: RegExp | undefined;
  private readonly each: RegExp[];

  constructor(readonly sources: readonly string[]) {
    this.each = sources.map((source) => new RegExp(source, 'i'));
    let combined: RegExp | undefined;
    try {
      combined = new RegExp(sources.map((source) => `(?:${source})`).join('|'), 'i');
    } catch {
      // A pattern that only compiles alone (inline groups, backreferences): test them one by one.
      combined = undefined;
    }
    this.combined = combined;
  }

  test(text: string): boolean {
    if (this.combined !== undefined) return this.combined.test(text);
    return this.each.some((pattern) => pattern.test(text));
  }

  /** The source of the first pattern that matches, for the alert's evidence. */
  which(text: string): string | undefined {
    const index = this.each.findIndex((pattern) => pattern.test(text));
    return index >= 0 ? this.sources[index] : undefined;
  }
}

const PERCENT = /%([0-9a-f]{2})/gi;

/** One round of URL decoding that never throws (`+` is a space, bad sequences stay as they are). */
export function decodeLoosely(text: string): string {
  const spaced = text.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(PERCENT, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

const ENCODED = /[%+]/;

/**
 * The text that matched in a URL: as written, then decoded once and twice (scanners double-encode
 * `../` and quotes). Undefined when nothing matched.
 */
export function matchUrl(patterns: PatternSet, url: string): string | undefined {
  if (patterns.test(url)) return url;
  if (!ENCODED.test(url)) return undefined;
  const once = decodeLoosely(url);
  if (once !== url && patterns.test(once)) return once;
  if (!ENCODED.test(once)) return undefined;
  const twice = decodeLoosely(once);
  if (twice !== once && patterns.test(twice)) return twice;
  return undefined;
}
