/**
 * The one sentinel password of the live test suites. It goes into every DSN a child run or a
 * driver gets (trust auth ignores it, md5 auth checks it), so any captured output can be searched
 * for it: a password that leaks anywhere shows up as this string.
 */
export const SENTINEL_PASSWORD = 's3nt1nel-PW-9f4';

/** Fails, naming `where` and the surrounding text, if the sentinel password occurs in `output`. */
export function expectNoSentinel(output: string, where = 'captured output'): void {
  const at = output.indexOf(SENTINEL_PASSWORD);
  if (at === -1) return;
  const context = output.slice(Math.max(0, at - 200), at + SENTINEL_PASSWORD.length + 200);
  throw new Error(`the sentinel password appears in ${where}:\n…${context}…`);
}
