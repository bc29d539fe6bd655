/**
 * A TCP proxy between a client (driver, Jest child run) and PostgreSQL that misbehaves on demand.
 * It listens on a free loopback port and treats each NEW connection by its current mode:
 *
 * - `pass`: forward both ways to the upstream server;
 * - `refuse`: accept, then close at once with a FIN (a pooler or balancer with nothing behind);
 * - `reset`: accept, then reset at once (RST);
 * - `stall`: accept and never forward or answer (a black-holed network, a hung server);
 * - `stall-after-startup`: forward until the server's first ReadyForQuery (the session is
 *   established), then drop everything both ways (a server that hangs once you are in).
 *
 * On connections already open: `cut()` destroys every socket mid-stream (a network failure, a
 * killed server); `freeze()` drops all further traffic without closing anything (a stall after
 * the session was established).
 */
import * as net from 'net';

export type ProxyMode = 'pass' | 'refuse' | 'reset' | 'stall' | 'stall-after-startup';

export interface ProxyStats {
  /** Connections accepted since the proxy started, in any mode. */
  accepted: number;
  /** Sockets (both sides) open right now. */
  open: number;
}

export interface FaultProxy {
  readonly host: string;
  readonly port: number;
  mode: ProxyMode;
  /** `dsn` with its host and port replaced by the proxy's. */
  dsnVia(dsn: string): string;
  /** Destroys every open socket on both sides; returns how many connections it cut. */
  cut(): number;
  /** Drops all further traffic of every open connection, leaving the sockets open. */
  freeze(): void;
  stats(): ProxyStats;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
  frozen: boolean;
}

const READY_FOR_QUERY = 0x5a; // 'Z'

/**
 * Counts backend messages (type byte + int32 length + body) across chunk boundaries; returns, for
 * each chunk, the offset just past the first ReadyForQuery, or -1 when it holds none.
 */
function firstReadyScanner(): (chunk: Buffer) => number {
  let header = Buffer.alloc(0);
  let remaining = 0;
  let type = 0;
  return (chunk) => {
    let i = 0;
    while (i < chunk.length) {
      if (remaining > 0) {
        const take = Math.min(remaining, chunk.length - i);
        remaining -= take;
        i += take;
        if (remaining === 0 && type === READY_FOR_QUERY) return i;
        continue;
      }
      const need = 5 - header.length;
      header = Buffer.concat([header, chunk.subarray(i, i + need)]);
      i += Math.min(need, chunk.length - i);
      if (header.length < 5) break;
      type = header[0];
      remaining = header.readInt32BE(1) - 4;
      header = Buffer.alloc(0);
      if (remaining === 0 && type === READY_FOR_QUERY) return i;
    }
    return -1;
  };
}

export async function startFaultProxy(
  upstream: { host: string; port: number },
  initialMode: ProxyMode = 'pass',
): Promise<FaultProxy> {
  const pairs = new Set<Pair>();
  const sockets = new Set<net.Socket>();
  let accepted = 0;
  let mode = initialMode;

  function track(socket: net.Socket): void {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // A reset from either side is an expected event here, not a crash of the test process.
    socket.on('error', () => undefined);
  }

  function forward(client: net.Socket, stallAfterStartup: boolean): void {
    const server = net.connect(upstream.port, upstream.host);
    track(server);
    const pair: Pair = { client, upstream: server, frozen: false };
    pairs.add(pair);
    const scan = stallAfterStartup ? firstReadyScanner() : undefined;
    client.on('data', (chunk: Buffer) => {
      if (!pair.frozen) server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (pair.frozen) return;
      const end = scan ? scan(chunk) : -1;
      if (end < 0) {
        client.write(chunk);
        return;
      }
      client.write(chunk.subarray(0, end));
      pair.frozen = true;
    });
    const end = () => {
      pairs.delete(pair);
      client.destroy();
      server.destroy();
    };
    client.on('close', end);
    server.on('close', end);
  }

  const server = net.createServer((client) => {
    accepted++;
    track(client);
    if (mode === 'refuse') {
      // Drain what the client sends, so the close is an orderly FIN whatever the timing.
      client.resume();
      client.end();
    } else if (mode === 'reset') {
      client.resetAndDestroy();
    } else if (mode === 'stall') {
      // Keep reading so the client's writes never block; drop what arrives.
      client.resume();
    } else {
      forward(client, mode === 'stall-after-startup');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  const proxy: FaultProxy = {
    host: '127.0.0.1',
    port,
    get mode() {
      return mode;
    },
    set mode(next: ProxyMode) {
      mode = next;
    },
    dsnVia(dsn) {
      const url = new URL(dsn);
      url.hostname = proxy.host;
      url.port = String(proxy.port);
      return url.toString();
    },
    cut() {
      const cut = pairs.size;
      for (const socket of sockets) socket.destroy();
      pairs.clear();
      return cut;
    },
    freeze() {
      for (const pair of pairs) pair.frozen = true;
    },
    stats: () => ({ accepted, open: sockets.size }),
    close() {
      proxy.cut();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

/** A loopback port nothing listens on (bound, read, released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Where a DSN points: the proxy forwards there. */
export function upstreamOf(dsn: string): { host: string; port: number } {
  const url = new URL(dsn);
  return { host: url.hostname || '127.0.0.1', port: Number(url.port || 5432) };
}
