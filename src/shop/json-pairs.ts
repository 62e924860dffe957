/**
 * Reads every `key: value` pair of a raw JSON text in document order, duplicates included, at any depth
 * (what Juice Shop's `utils.parseJsonCustom` gets from the clarinet SAX parser). JSON.parse keeps the LAST
 * duplicate; this list lets a route read the FIRST, which is the BasketId manipulation.
 * A primitive value is attached to the most recent key; an object or array opened after a key leaves it null.
 */
export interface JsonPair {
  key: string;
  value: string | number | boolean | null;
}

class PairReader {
  private index = 0;
  readonly pairs: JsonPair[] = [];

  constructor(private readonly text: string) {}

  read(): void {
    this.value();
    this.space();
    if (this.index < this.text.length) this.fail('Unexpected data after end of JSON');
  }

  private fail(message: string): never {
    throw new SyntaxError(`${message} at position ${this.index}`);
  }

  private space(): void {
    while (this.index < this.text.length && ' \t\n\r'.includes(this.text[this.index])) this.index++;
  }

  private value(): void {
    this.space();
    const char = this.text[this.index];
    if (char === '{') this.object();
    else if (char === '[') this.array();
    else this.primitive(this.scalar());
  }

  private primitive(value: JsonPair['value']): void {
    const last = this.pairs[this.pairs.length - 1];
    if (last === undefined) throw new TypeError("Cannot set properties of undefined (setting 'value')");
    last.value = value;
  }

  private object(): void {
    this.index++;
    this.space();
    if (this.text[this.index] === '}') {
      this.index++;
      return;
    }
    for (;;) {
      this.space();
      if (this.text[this.index] !== '"') this.fail('Expected a key');
      this.pairs.push({ key: this.string(), value: null });
      this.space();
      if (this.text[this.index] !== ':') this.fail('Expected ":"');
      this.index++;
      this.value();
      this.space();
      const next = this.text[this.index++];
      if (next === '}') return;
      if (next !== ',') this.fail('Expected "," or "}"');
    }
  }

  private array(): void {
    this.index++;
    this.space();
    if (this.text[this.index] === ']') {
      this.index++;
      return;
    }
    for (;;) {
      this.value();
      this.space();
      const next = this.text[this.index++];
      if (next === ']') return;
      if (next !== ',') this.fail('Expected "," or "]"');
    }
  }

  private scalar(): JsonPair['value'] {
    const rest = this.text.slice(this.index);
    if (rest.startsWith('"')) return this.string();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (rest.startsWith(word)) {
        this.index += word.length;
        return value;
      }
    }
    const number = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(rest);
    if (number === null) this.fail('Unexpected token');
    this.index += number[0].length;
    return Number(number[0]);
  }

  private string(): string {
    const match = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/.exec(this.text.slice(this.index));
    if (match === null) this.fail('Bad string');
    this.index += match[0].length;
    return JSON.parse(match[0]) as string;
  }
}

export function parseJsonPairs(text: string): JsonPair[] {
  const reader = new PairReader(text);
  reader.read();
  return reader.pairs;
}
