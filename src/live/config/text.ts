/** Rendering of user-supplied text inside one-line messages. */

/** Escapes control characters so a message stays one readable line whatever the input held. */
export function printable(text: string): string {
  return text.replace(/\p{Cc}/gu, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A value quoted for a message: JSON-style, so trailing spaces and case differences show. */
export function quoted(text: string): string {
  return printable(JSON.stringify(text));
}

/** A value as it would be typed after `NAME=` in a POSIX shell. */
export function shellValue(text: string): string {
  if (text !== '' && !/[\s'"\\$`!*?;&|<>(){}[\]#~=]/u.test(text)) return printable(text);
  return printable(`'${text.replace(/'/g, `'\\''`)}'`);
}
