/**
 * The password a suite puts into the DSNs it hands to drivers and child runs (and into the roles
 * and PgBouncer userlists it makes), and checks is never printed: the admin DSN's own when it has
 * one (a server with password auth, such as the embedded one `npm test` starts by default), else
 * the suite's `sentinel` (trust auth ignores it).
 */
export function secretFor(sentinel: string): string {
  const dsn = process.env.USER_ENGINE_LIVE_DSN;
  if (!dsn || dsn === 'embedded') return sentinel;
  try {
    return decodeURIComponent(new URL(dsn).password) || sentinel;
  } catch {
    return sentinel;
  }
}

/**
 * The one sentinel password of the live test suites. It goes into every DSN a child run or a
 * driver gets (trust auth ignores it, md5 auth checks it), so any captured output can be searched
 * for it: a password that leaks anywhere shows up as this string. Against a server with password
 * auth it is that server's password (see secretFor).
 */
export const SENTINEL_PASSWORD = secretFor('s3nt1nel-PW-9f4');

/** Fails, naming `where` and the surrounding text, if the sentinel password occurs in `output`. */
export function expectNoSentinel(output: string, where = 'captured output'): void {
  const at = output.indexOf(SENTINEL_PASSWORD);
  if (at === -1) return;
  const context = output.slice(Math.max(0, at - 200), at + SENTINEL_PASSWORD.length + 200);
  throw new Error(`the sentinel password appears in ${where}:\n…${context}…`);
}
