/**
 * sslmode with libpq's meaning on both drivers, against second PostgreSQL 15 servers the test
 * starts with `ssl = on` (a private CA's certificate, and a self-signed one, both for localhost
 * and 127.0.0.1), and the machine's own cluster (ssl off). Runs when USER_ENGINE_LIVE_DSN is set.
 */
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConnectionFailedError,
  createConnection,
  DRIVER_NAMES,
  TlsVerificationError,
} from '../../src/driver';
import type { DriverName } from '../../src/driver';
import { ADMIN_DSN, liveDsn } from '../postgres/support';
import { startTlsServer, type TlsServer } from '../support/tls-server';

const describeTls = ADMIN_DSN ? describe : describe.skip;

const SSL_OF_MY_SESSION = `SELECT coalesce((SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()), false) AS ssl,
  inet_server_port() AS port`;

/** Opens a pool on `dsn`, reports whether its session is encrypted and which port it reached. */
async function sessionOn(driver: DriverName, dsn: string): Promise<{ ssl: boolean; port: number }> {
  const connection = await createConnection(dsn, { driver, max: 1, connectTimeoutMs: 5000 });
  try {
    const { rows } = await connection.query<{ ssl: boolean; port: number }>(SSL_OF_MY_SESSION);
    return rows[0];
  } finally {
    await connection.close();
  }
}

async function failureOn(driver: DriverName, dsn: string): Promise<Error> {
  const error = await sessionOn(driver, dsn).then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof Error)) throw new Error(`expected ${dsn} to fail, it connected`);
  return error;
}

describeTls('TLS like libpq (live, servers of the test)', () => {
  let ca: TlsServer;
  let selfSigned: TlsServer;
  let scratch: string;

  beforeAll(async () => {
    [ca, selfSigned] = await Promise.all([
      startTlsServer({ certificate: 'ca-signed' }),
      startTlsServer({ certificate: 'self-signed' }),
    ]);
    scratch = mkdtempSync(join(tmpdir(), 'ue-drv-tls-'));
  }, 60_000);

  afterAll(async () => {
    await Promise.all([ca?.stop(), selfSigned?.stop()]);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
  }, 30_000);

  describe.each(DRIVER_NAMES)('%s', (driver) => {
    test('require encrypts without verifying: a self-signed certificate is accepted', async () => {
      const dsn = selfSigned.dsnFor('postgres', { sslmode: 'require' });
      expect(await sessionOn(driver, dsn)).toEqual({ ssl: true, port: selfSigned.port });
    });

    test('require with sslrootcert verifies the chain (as libpq): the wrong CA fails', async () => {
      const dsn = selfSigned.dsnFor('postgres', { sslmode: 'require', sslrootcert: ca.caPath });
      const error = await failureOn(driver, dsn);
      expect(error).toBeInstanceOf(TlsVerificationError);
      expect(error).toMatchObject({ code: 'tls_verification_failed', sslmode: 'require' });
    });

    test('verify-full with the CA works, by name and by IP address', async () => {
      const byName = ca.dsnFor('postgres', { sslmode: 'verify-full', sslrootcert: ca.caPath });
      expect(await sessionOn(driver, byName)).toEqual({ ssl: true, port: ca.port });
      const byIp = ca.dsnFor(
        'postgres',
        { sslmode: 'verify-full', sslrootcert: ca.caPath },
        '127.0.0.1',
      );
      expect(await sessionOn(driver, byIp)).toEqual({ ssl: true, port: ca.port });
    });

    test('verify-full without the CA fails, naming the host, the mode and how to supply the CA', async () => {
      const error = await failureOn(driver, ca.dsnFor('postgres', { sslmode: 'verify-full' }));
      expect(error).toBeInstanceOf(TlsVerificationError);
      expect(error).toBeInstanceOf(ConnectionFailedError);
      expect(error).toMatchObject({ code: 'tls_verification_failed', sslmode: 'verify-full' });
      expect(error.message).toMatch(/at localhost:\d+, database "postgres"/);
      expect(error.message).toMatch(/sslmode=verify-full/);
      expect(error.message).toMatch(/sslrootcert=\/path\/ca\.pem/);
      expect(error.message).toMatch(/sslmode=require to encrypt without verifying/);
      expect(error.message).not.toMatch(/sentinel|s3cr3t/i);
    });

    test('verify-full on a host name the certificate does not name fails; verify-ca accepts it', async () => {
      // `127.1` reaches 127.0.0.1 but is not an address or name in the certificate.
      const params = { sslrootcert: ca.caPath };
      const mismatch = await failureOn(
        driver,
        ca.dsnFor('postgres', { ...params, sslmode: 'verify-full' }, '127.1'),
      );
      expect(mismatch).toBeInstanceOf(TlsVerificationError);
      expect(mismatch.message).toMatch(/does not name host "127\.1"/);
      expect(mismatch.message).toMatch(/sslmode=verify-ca/);
      const verifyCa = ca.dsnFor('postgres', { ...params, sslmode: 'verify-ca' }, '127.1');
      expect(await sessionOn(driver, verifyCa)).toEqual({ ssl: true, port: ca.port });
    });

    test('verify-ca still verifies the chain: a self-signed server without its cert fails', async () => {
      const dsn = selfSigned.dsnFor('postgres', { sslmode: 'verify-ca', sslrootcert: ca.caPath });
      expect(await failureOn(driver, dsn)).toBeInstanceOf(TlsVerificationError);
      const trusted = selfSigned.dsnFor('postgres', {
        sslmode: 'verify-ca',
        sslrootcert: selfSigned.serverCertPath,
      });
      expect(await sessionOn(driver, trusted)).toEqual({ ssl: true, port: selfSigned.port });
    });

    test('disable on an ssl=on server is unencrypted; prefer there is encrypted', async () => {
      expect(await sessionOn(driver, ca.dsnFor('postgres', { sslmode: 'disable' }))).toEqual({
        ssl: false,
        port: ca.port,
      });
      expect(await sessionOn(driver, ca.dsnFor('postgres', { sslmode: 'prefer' }))).toEqual({
        ssl: true,
        port: ca.port,
      });
      // No sslmode at all is libpq's default, prefer.
      expect((await sessionOn(driver, ca.dsnFor('postgres'))).ssl).toBe(true);
    });

    test('prefer on an ssl=off server works unencrypted; require there fails clearly', async () => {
      const url = new URL(liveDsn());
      url.searchParams.set('sslmode', 'prefer');
      expect((await sessionOn(driver, url.toString())).ssl).toBe(false);
      url.searchParams.set('sslmode', 'require');
      const error = await failureOn(driver, url.toString());
      expect(error).toBeInstanceOf(ConnectionFailedError);
      expect(error.message).toMatch(/does not offer TLS and the DSN has sslmode=require/);
    });

    test('an unreadable sslrootcert is named', async () => {
      const missing = join(scratch, 'no-such-ca.pem');
      const error = await failureOn(
        driver,
        ca.dsnFor('postgres', { sslmode: 'verify-full', sslrootcert: missing }),
      );
      expect(error).toBeInstanceOf(ConnectionFailedError);
      expect(error.message).toMatch(/could not read sslrootcert=.*no-such-ca\.pem/);
    });

    test('a file that is not a certificate fails verification, naming it', async () => {
      const garbage = join(scratch, 'garbage.pem');
      writeFileSync(garbage, 'not a certificate\n');
      const error = await failureOn(
        driver,
        ca.dsnFor('postgres', { sslmode: 'verify-full', sslrootcert: garbage }),
      );
      // Node ignores a PEM file without certificates: nothing verifies, and the file is named.
      expect(error).toBeInstanceOf(TlsVerificationError);
      expect(error.message).toContain(`(${garbage} did not verify it)`);
    });
  });
});
