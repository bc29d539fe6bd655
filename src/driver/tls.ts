/**
 * libpq's sslmode, decided once per pool and handed to both drivers as the same Node TLS options:
 *
 * | sslmode       | encrypts                  | verifies the chain          | checks the host name |
 * | ------------- | ------------------------- | --------------------------- | -------------------- |
 * | `disable`     | no                        | –                           | –                    |
 * | `prefer`      | if the server offers TLS  | only with `sslrootcert`     | no                   |
 * | `require`     | yes                       | only with `sslrootcert`     | no                   |
 * | `verify-ca`   | yes                       | yes                         | no                   |
 * | `verify-full` | yes                       | yes                         | yes                  |
 *
 * As in libpq, `require` with an `sslrootcert` verifies the chain (as `verify-ca`), Unix sockets
 * never use TLS, and `sslrootcert=system` means the system's trusted CAs. Without `sslrootcert`,
 * `verify-ca`/`verify-full` trust Node's bundled public CAs (libpq would look for
 * `~/.postgresql/root.crt`; reading nothing from the home directory is this package's rule).
 */
import { readFile } from 'node:fs/promises';
import { connect as connectTcp, isIP } from 'node:net';
import { checkServerIdentity, type ConnectionOptions as TlsOptions } from 'node:tls';
import { describeDsnTarget, type DsnTarget } from './dsn-target';
import { ConnectionFailedError } from './errors';

/** `false`: plain TCP. Otherwise the options both drivers pass to `tls.connect`. */
export type TlsSettings = false | TlsOptions;

async function readPemFile(target: DsnTarget, parameter: string, path: string): Promise<Buffer> {
  try {
    return await readFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConnectionFailedError(
      `could not read ${parameter}=${path} for ${describeDsnTarget(target)}: ${reason}`,
    );
  }
}

/** `silent`: no answer within the timeout; `unreachable`: refused, reset or closed. */
export type TlsOffer = 'offered' | 'refused' | 'unreachable' | 'silent';

/**
 * Asks the server whether it speaks TLS (PostgreSQL's SSLRequest, answered with one byte `S` or
 * `N`) on a throwaway socket, so that `prefer` behaves the same with both drivers and `require`
 * on a server without TLS fails with the same clear message. `unreachable`: the driver's own
 * connect then reports what is wrong with the target.
 */
export function askServerForTls(host: string, port: number, timeoutMs: number): Promise<TlsOffer> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host, port });
    const done = (offer: TlsOffer) => {
      socket.destroy();
      resolve(offer);
    };
    const timer = setTimeout(() => done('silent'), timeoutMs);
    socket.once('close', () => {
      clearTimeout(timer);
      done('unreachable');
    });
    socket.once('error', () => done('unreachable'));
    socket.once('connect', () => socket.write(Buffer.from([0, 0, 0, 8, 4, 210, 22, 47])));
    socket.once('data', (data: Buffer) => done(data[0] === 0x53 ? 'offered' : 'refused'));
  });
}

/** The TLS options for `target`, reading its certificate files now (at connect). */
export async function resolveTls(target: DsnTarget, probeTimeoutMs: number): Promise<TlsSettings> {
  const { sslmode, host, port } = target;
  if (sslmode === 'disable' || host.startsWith('/')) return false;
  const offer = await askServerForTls(host, port, probeTimeoutMs);
  if (offer === 'silent')
    // The connect timeout is spent: waiting for it again in the driver would double it.
    throw new ConnectionFailedError(
      `could not connect to PostgreSQL at ${describeDsnTarget(target)}: no answer to the TLS request within connectTimeoutMs (${probeTimeoutMs} ms)`,
    );
  if (offer === 'refused' && sslmode === 'prefer') return false;
  if (offer === 'refused')
    throw new ConnectionFailedError(
      `could not connect to PostgreSQL at ${describeDsnTarget(target)}: the server does not offer TLS and the DSN has sslmode=${sslmode}. Turn ssl on in the server, or use sslmode=prefer (or disable) if unencrypted traffic is acceptable`,
    );

  const systemCa = target.sslrootcert === 'system';
  const ca =
    target.sslrootcert && !systemCa
      ? await readPemFile(target, 'sslrootcert', target.sslrootcert)
      : undefined;
  const clientCert = target.sslcert
    ? { cert: await readPemFile(target, 'sslcert', target.sslcert) }
    : {};
  const clientKey = target.sslkey
    ? { key: await readPemFile(target, 'sslkey', target.sslkey) }
    : {};
  const base: TlsOptions = {
    ...clientCert,
    ...clientKey,
    ...(ca ? { ca } : {}),
    // SNI carries a name, never an address (RFC 6066).
    ...(isIP(host) ? {} : { servername: host }),
  };
  const verifyChain =
    sslmode === 'verify-ca' || sslmode === 'verify-full' || ca !== undefined || systemCa;
  if (!verifyChain) return { ...base, rejectUnauthorized: false };
  if (sslmode === 'verify-full')
    // Explicitly against the DSN's host: the drivers hand tls.connect a socket, not a host name.
    return {
      ...base,
      rejectUnauthorized: true,
      checkServerIdentity: (_, c) => checkServerIdentity(host, c),
    };
  return { ...base, rejectUnauthorized: true, checkServerIdentity: () => undefined };
}
