/**
 * DSN handling shared by the driver adapters and the live config: redact the password everywhere
 * text may carry it. Parsing into a complete target lives in dsn-target.ts.
 */

/**
 * Replaces the password of any `scheme://user:password@` in `text` with `***`. The match runs to
 * the last `@` before white space, because a password may hold an unencoded `@`: hiding a host
 * too is the safe failure.
 */
export function redactDsn(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/?#@\s]*:)(\S*)@/gi, '$1***@');
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

/** Percent-decodes what decodes (as URLSearchParams would: `+` is a space), keeps the rest. */
function lenientDecode(text: string): string {
  return text.replace(/\+/g, ' ').replace(/(%[0-9a-f]{2})+/gi, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/** Where the value after a `*pass*` key ends: a quoted libpq value, else the next `&` or space. */
function valueEnd(text: string, start: number): number {
  if (text[start] === "'") {
    for (let i = start + 1; i < text.length; i++) {
      if (text[i] === '\\') i++;
      else if (text[i] === "'") return i + 1;
    }
    return text.length;
  }
  const stop = text.slice(start).search(/[&\s]/);
  return stop < 0 ? text.length : start + stop;
}

/**
 * Replaces the value of every `key=value` whose key, once percent-decoded, mentions `pass`
 * (`password`, `sslpassword`, `p%61ssword`), in URL queries (`?a=1&password=x`) and libpq
 * keyword strings (`password = 'x y'`): pg-connection-string reads `?password=` too. A scanner,
 * not one regex, so no earlier match can swallow the pair that holds the secret.
 */
export function redactSecretParams(text: string): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const keyLength = text.slice(i).search(/[=&?#\s]/);
    const keyEnd = keyLength < 0 ? text.length : i + keyLength;
    if (keyEnd === i) {
      out += text[i];
      i += 1;
      continue;
    }
    const key = text.slice(i, keyEnd);
    const eq = /^\s*=\s*/.exec(text.slice(keyEnd));
    if (!eq || !/pass/i.test(lenientDecode(key))) {
      out += key;
      i = keyEnd;
      continue;
    }
    const valueStart = keyEnd + eq[0].length;
    out += `${key}${eq[0]}***`;
    i = valueEnd(text, valueStart);
  }
  return out;
}

const SCHEME = /^\s*[a-z][a-z0-9+.-]*:\/\//i;

function maskUserinfo(text: string, start: number, at: number, wholeWithoutColon = false): string {
  const colon = text.indexOf(':', start);
  if (colon >= 0 && colon < at) return `${text.slice(0, colon + 1)}***${text.slice(at)}`;
  // Unparsed text without `user:`: the password may be what looks like a user, or a scheme's `//`
  // (`u://pw@h` is `u:` + password `//pw`), so the whole userinfo goes.
  return wholeWithoutColon ? `${text.slice(0, start)}***${text.slice(at)}` : text;
}

/**
 * Redacts a connection string of unknown validity. Without a parser's verdict the end of the
 * password is unknowable (it may hold unencoded `/`, `?`, `#` or `@`), so everything from the
 * first `:` after the scheme up to the LAST `@` is hidden: over-redaction is the safe failure.
 */
export function redactDsnLoose(text: string): string {
  const scheme = SCHEME.exec(text);
  const start = scheme ? scheme[0].length : 0;
  const at = text.lastIndexOf('@');
  return redactSecretParams(at >= start ? maskUserinfo(text, start, at, scheme !== null) : text);
}

/**
 * Redacts a connection string the WHATWG URL parser accepted: the userinfo is then exactly the
 * part of the authority before its last `@`, so the host, path and query stay readable.
 */
export function redactValidDsn(dsn: string): string {
  const scheme = SCHEME.exec(dsn);
  if (!scheme) return redactDsnLoose(dsn);
  const start = scheme[0].length;
  const rest = dsn.slice(start).search(/[/?#]/);
  const end = rest < 0 ? dsn.length : start + rest;
  const at = dsn.lastIndexOf('@', end - 1);
  return redactSecretParams(at >= start ? maskUserinfo(dsn, start, at) : dsn);
}

// Parsing lives in dsn-target.ts; these names stay importable from here for existing callers.
export { parseDsn, describeDsnTarget } from './dsn-target';
export type { DsnTarget, SslMode } from './dsn-target';
