import { describe, expect, it } from 'vitest';
import { terminalJson, terminalText } from './terminal-text';

// [what, input, as printed for a person]
const HUMAN: [string, string, string][] = [
  ['plain text is untouched', 'Inbox 4,817 items (23 unread) · Müller 東京 ✓', 'Inbox 4,817 items (23 unread) · Müller 東京 ✓'],
  ['tab and newline keep the layout', 'last error: x\n  Sign in again.\tok', 'last error: x\n  Sign in again.\tok'],
  ['ESC of a CSI sequence (clear screen)', 'AADSTS50076: \u001b[2JMFA', 'AADSTS50076: [2JMFA'],
  ['ESC of an OSC sequence (window title, hyperlink)', '\u001b]0;pwned\u0007name', ']0;pwnedname'],
  ['carriage return that would overwrite the line', 'safe\rEVIL', 'safeEVIL'],
  ['NUL, BEL, backspace, vertical tab, form feed', 'a\u0000b\u0007c\u0008d\u000be\u000cf', 'abcdef'],
  ['DEL', 'a\u007fb', 'ab'],
  ['C1 CSI U+009B (8-bit escape)', 'Mal\u009b2Jlory', 'Mal2Jlory'],
  ['every C1 control U+0080–U+009F', `x${String.fromCharCode(...Array.from({ length: 32 }, (_, i) => 0x80 + i))}y`, 'xy'],
  ['bidi embeddings and overrides U+202A–U+202E', 'a\u202ab\u202bc\u202cd\u202de\u202ef', 'abcdef'],
  ['bidi isolates U+2066–U+2069', 'invoice\u2066fdp.exe\u2069', 'invoicefdp.exe'],
  ['the characters around the ranges stay', '\u007e\u00a0\u2029\u202f\u2065\u206a', '\u007e\u00a0\u2029\u202f\u2065\u206a'],
];

describe('terminalText (human output)', () => {
  it.each(HUMAN)('%s', (_what, input, printed) => {
    expect(terminalText(input)).toBe(printed);
  });
});

// [what, value, raw characters that must not reach the terminal]
const JSON_CASES: [string, unknown][] = [
  ['a display name with C1 CSI and a bidi override', { name: 'Mal\u009b2J\u202elory' }],
  ['an error_description with ESC and DEL', { error: { message: 'AADSTS50076: \u001b[2J\u007f' } }],
  ['a claim with an isolate and BEL', { claims: { given_name: 'x\u2068y\u0007' }, list: ['\u0085'] }],
];

describe('terminalJson (--json output)', () => {
  it.each(JSON_CASES)('%s: no raw control reaches the terminal, and the parsed value is exact', (_what, value) => {
    const text = terminalJson(JSON.stringify(value, null, 2));
    // eslint-disable-next-line no-control-regex -- matching control characters is the point
    expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
    expect(JSON.parse(text)).toEqual(value);
  });

  it('keeps the layout of pretty-printed JSON', () => {
    expect(terminalJson(JSON.stringify({ a: 1, b: ['x'] }, null, 2))).toBe('{\n  "a": 1,\n  "b": [\n    "x"\n  ]\n}');
  });

  it('JSON.stringify alone would let C1 and bidi controls through (why this exists)', () => {
    expect(JSON.stringify('\u009b\u202e\u007f')).toBe('"\u009b\u202e\u007f"');
    expect(terminalJson(JSON.stringify('\u009b\u202e\u007f'))).toBe('"\\u009b\\u202e\\u007f"');
  });
});
