/**
 * A second PostgreSQL 15 cluster with `ssl = on`, for TLS scenarios the machine's own cluster
 * (plain TCP) cannot give: a fresh initdb per server,
 * a random loopback port, trust auth for `hostssl` and `host` on 127.0.0.1, and certificates made
 * with openssl: a private CA signing a server certificate for DNS:localhost and IP:127.0.0.1, or
 * (variant) a self-signed server certificate. Runs as OS user `postgres`, stopped by its pid.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import { Client } from 'pg';
import {
  chownToServer,
  freePort,
  runAsServerUser,
  serverTempDir,
  startServerProcess,
  waitForPort,
} from './processes';
import { SENTINEL_PASSWORD } from './sentinel';

export const PG_BIN = '/usr/lib/postgresql/15/bin';

export type ServerCertificate = 'ca-signed' | 'self-signed';

export interface TlsServerOptions {
  /** Default `ca-signed`: signed by the private CA at `caPath`. */
  certificate?: ServerCertificate;
  /** Also accept plain TCP (`host` line in pg_hba.conf). Default true. */
  allowPlain?: boolean;
}

export interface TlsServer {
  readonly port: number;
  /** The private CA's certificate (PEM): what `sslrootcert` names for verify-ca/verify-full. */
  readonly caPath: string;
  /** The server's own certificate (PEM); for `self-signed` the only thing that verifies it. */
  readonly serverCertPath: string;
  /**
   * `postgres://postgres:<sentinel>@<host>:<port>/<db>?<params>`; host `localhost` unless
   * `host` is given (the certificate names both `localhost` and `127.0.0.1`).
   */
  dsnFor(db: string, params?: Record<string, string>, host?: string): string;
  /** Runs SQL as superuser `postgres` over TLS (unverified), in database `db` (default postgres). */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: unknown[],
    db?: string,
  ): Promise<Row[]>;
  /** Stops the server by its pid and removes its data and certificates. Idempotent. */
  stop(): Promise<void>;
}

const openssl = (args: string[], cwd: string) =>
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });

const SAN = 'subjectAltName=DNS:localhost,IP:127.0.0.1';

/** Writes ca.crt, server.crt and server.key into `dir` (EC keys: fast to make). */
function makeCertificates(dir: string, kind: ServerCertificate): void {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  if (kind === 'self-signed') {
    openssl(
      [
        'req',
        '-x509',
        ...key,
        '-keyout',
        'server.key',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        SAN,
      ],
      dir,
    );
  } else {
    openssl(
      [
        'req',
        '-x509',
        ...key,
        '-keyout',
        'ca.key',
        '-out',
        'ca.crt',
        '-days',
        '2',
        '-subj',
        '/CN=ue-topo private test CA',
        '-addext',
        'basicConstraints=critical,CA:TRUE',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
      ],
      dir,
    );
    openssl(
      [
        'req',
        '-new',
        ...key,
        '-keyout',
        'server.key',
        '-out',
        'server.csr',
        '-subj',
        '/CN=localhost',
      ],
      dir,
    );
    fs.writeFileSync(
      path.join(dir, 'server.ext'),
      `${SAN}\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n`,
    );
    openssl(
      [
        'x509',
        '-req',
        '-in',
        'server.csr',
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        'server.crt',
        '-days',
        '2',
        '-extfile',
        'server.ext',
      ],
      dir,
    );
  }
  fs.chmodSync(path.join(dir, 'server.key'), 0o600);
  chownToServer(path.join(dir, 'server.key'));
}

/** A fresh cluster in `data`: initdb takes ~1.4 s here, too little to be worth a shared template. */
function initdb(data: string): void {
  runAsServerUser(path.join(PG_BIN, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--no-locale',
    '--no-sync',
    '--no-instructions',
  ]);
}

/** The port opens before recovery ends ("the database system is starting up"): poll a query. */
async function untilAccepting(port: number): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const client = new Client({
      host: '127.0.0.1',
      port,
      user: 'postgres',
      database: 'postgres',
      ssl: { rejectUnauthorized: false },
    });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

export async function startTlsServer(options: TlsServerOptions = {}): Promise<TlsServer> {
  const kind = options.certificate ?? 'ca-signed';
  const dir = serverTempDir(`tls-${kind}`);
  const data = path.join(dir, 'data');
  initdb(data);
  const certs = path.join(dir, 'certs');
  fs.mkdirSync(certs);
  chownToServer(certs);
  makeCertificates(certs, kind);
  const hba = ['local all all trust', 'hostssl all all 127.0.0.1/32 trust'];
  if (options.allowPlain ?? true) hba.push('host all all 127.0.0.1/32 trust');
  fs.writeFileSync(path.join(data, 'pg_hba.conf'), `${hba.join('\n')}\n`);

  const port = await freePort();
  const server = startServerProcess(
    path.join(PG_BIN, 'postgres'),
    [
      '-D',
      data,
      '-p',
      String(port),
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${path.join(certs, 'server.crt')}`,
      '-c',
      `ssl_key_file=${path.join(certs, 'server.key')}`,
      // A throwaway server: durability buys nothing, memory is shared with the machine's cluster.
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'shared_buffers=16MB',
      '-c',
      'max_connections=60',
    ],
    dir,
  );
  const stop = async () => {
    // SIGINT: PostgreSQL's fast shutdown (ends sessions, no wait for clients).
    await server.stop('SIGINT', 15_000);
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port, 20_000, () => !server.exited());
    await untilAccepting(port);
  } catch (error) {
    await stop();
    throw new Error(`${(error as Error).message}\n${server.output()}`);
  }

  const dsnFor = (db: string, params: Record<string, string> = {}, host = 'localhost') => {
    const query = new URLSearchParams(params).toString();
    return `postgres://postgres:${SENTINEL_PASSWORD}@${host}:${port}/${encodeURIComponent(db)}${query ? `?${query}` : ''}`;
  };
  let stopped = false;
  return {
    port,
    caPath: path.join(certs, kind === 'ca-signed' ? 'ca.crt' : 'server.crt'),
    serverCertPath: path.join(certs, 'server.crt'),
    dsnFor,
    query: async <Row>(sql: string, params?: unknown[], db = 'postgres') => {
      const client = new Client({
        host: '127.0.0.1',
        port,
        user: 'postgres',
        database: db,
        ssl: { rejectUnauthorized: false },
      });
      await client.connect();
      try {
        return (await client.query(sql, params)).rows as Row[];
      } finally {
        await client.end();
      }
    },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await stop();
    },
  };
}
