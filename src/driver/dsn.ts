/**
 * DSN handling shared by the driver adapters and the live config: parse with pg-connection-string,
 * and redact the password everywhere text may carry it.
 */

/** Replaces the password of any `scheme://user:password@` in `text` with `***`. */
export function redactDsn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)([^@\s]*)@/gi, '$1***@');
}

/** Removes every occurrence of the given secrets (and URL-encoded forms) from `text`. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[]): string {
  let out = redactDsn(text);
  for (const secret of secrets) {
    if (!secret) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) {
      out = out.split(form).join('***');
    }
  }
  return out;
}
