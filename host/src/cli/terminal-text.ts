// What the CLI prints is made harmless to a terminal here, whatever it quotes from outside: an
// Entra error_description, an EWS MessageText, a display name or JWT claim, a folder name, advice
// built from them. Pure. Guarantees: the result holds no C0 control but tab and newline (so no
// ESC, no carriage return to overwrite a line), no DEL, no C1 control (U+0080–U+009F, among them
// U+009B, the one-character CSI that terminals honouring 8-bit controls act on) and no bidi
// embedding, override or isolate (U+202A–U+202E, U+2066–U+2069, which reorder what is read).
// The control sets: ECMA-48 "Control functions for coded character sets", §5; the bidi
// controls: Unicode Standard Annex #9 "Unicode Bidirectional Algorithm", §2.

/** Characters a terminal could act on or that reorder text: everything but tab (U+0009) and newline (U+000A). */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/** Human output: the unsafe characters removed, the rest (and the line layout) untouched. */
export function terminalText(text: string): string {
  return text.replace(UNSAFE, '');
}

/**
 * --json output: the unsafe characters written as \uXXXX escapes instead, so a script that
 * parses the JSON gets every value exactly. JSON.stringify escapes C0 itself but leaves DEL, C1
 * and bidi controls raw; in JSON text they can only stand inside strings, where the escape is
 * the same value (RFC 8259 §7). Outside JSON the escapes are merely visible, never acted on.
 */
export function terminalJson(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
