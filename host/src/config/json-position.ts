// Where a config file stops being JSON, found without quoting its text (which may hold the
// client secret): a recursive-descent recogniser of RFC 8259 that only locates the first error.

/** The first JSON syntax error's offset and reason (RFC 8259), found without quoting the text. */
export function locateJsonError(text: string): { offset: number; reason: string } | null {
  const scanner = new JsonScanner(text);
  try {
    scanner.document();
    return null;
  } catch (e) {
    if (e instanceof JsonSyntax) return { offset: e.offset, reason: e.reason };
    return null; // e.g. RangeError from absurd nesting: no position to give
  }
}

class JsonSyntax {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {}
}

/** A recursive-descent JSON recogniser: it only finds where the text stops being JSON. */
class JsonScanner {
  private i = 0;
  constructor(private readonly text: string) {}

  document(): void {
    this.value();
    this.ws();
    if (this.i < this.text.length) this.fail('unexpected text after the end of the JSON value');
  }

  private value(): void {
    this.ws();
    const c = this.text[this.i];
    const literal = /^(true|false|null|-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?)/.exec(this.text.slice(this.i, this.i + 400));
    if (c === '{') this.list('}', () => this.member());
    else if (c === '[') this.list(']', () => this.value());
    else if (c === '"') this.string();
    else if (literal) this.i += literal[0].length;
    else this.fail('expected a value (a string in double quotes, a number, true, false, null, an object or an array)');
  }

  private member(): void {
    this.string();
    this.ws();
    this.expect(':', "expected ':'");
    this.value();
  }

  private list(close: string, item: () => void): void {
    this.i++;
    this.ws();
    if (this.text[this.i] === close) return void this.i++;
    for (;;) {
      this.ws();
      item();
      this.ws();
      if (this.text[this.i] === close) return void this.i++;
      this.expect(',', `expected ',' or '${close}'`);
      this.ws();
      if (this.text[this.i] === close) this.fail('a trailing comma');
    }
  }

  private string(): void {
    this.expect('"', 'expected a property name in double quotes');
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.fail('unterminated string');
      else if (c === '"') return void this.i++;
      else if (c < ' ') this.fail('a string holds a control character (a line break?)');
      this.i += c === '\\' ? 2 : 1;
    }
  }

  private ws(): void {
    while (/[ \t\n\r]/.test(this.text[this.i] ?? '')) this.i++;
  }

  private expect(c: string, reason: string): void {
    if (this.text[this.i] === c) this.i++;
    else this.fail(reason);
  }

  private fail(reason: string): never {
    const c = this.text[this.i];
    throw new JsonSyntax(this.i, c === undefined ? 'the file ends too early' : c === '/' ? 'comments are not allowed' : reason);
  }
}
