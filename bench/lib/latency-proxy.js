/**
 * A TCP proxy on loopback in front of PostgreSQL for the comparison benchmark: it delays every
 * chunk by `delayMs` in each direction (a CI runner talking to a managed database) and counts
 * what the clients send, from the frontend protocol itself, so that both drivers and every mode
 * are counted the same way without touching their code:
 *
 * - statements: each `Execute` (extended protocol) plus each statement of a simple `Query`
 *   message (multi-statement texts are split, quotes and dollar quoting respected);
 * - round trips: client sends that follow an answer from the server (a pipelined burst of
 *   several statements is one round trip; so is each step of the startup handshake).
 */
'use strict';
const { Buffer } = require('buffer');
const net = require('net');
const { setTimeout } = require('timers');

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;

/** Statements in a simple-query text: top-level `;` outside quotes, identifiers and $tag$ bodies. */
function countStatements(sql) {
  let count = 0;
  let pending = false;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      i = end < 0 ? sql.length : end;
      pending = true;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      i = end < 0 ? sql.length : end;
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_0-9]*\$/.exec(sql.slice(i));
      if (tag) {
        const end = sql.indexOf(tag[0], i + tag[0].length);
        i = end < 0 ? sql.length : end + tag[0].length - 1;
      }
      pending = true;
    } else if (c === ';') {
      if (pending) count++;
      pending = false;
    } else if (!/\s/.test(c)) {
      pending = true;
    }
  }
  return count + (pending ? 1 : 0);
}

/** Reads frontend messages from a connection's byte stream and counts them into `counts`. */
function frontendCounter(counts) {
  let buffer = Buffer.alloc(0);
  let startup = true;
  return (chunk) => {
    buffer = buffer.length === 0 ? chunk : Buffer.concat([buffer, chunk]);
    for (;;) {
      if (startup) {
        if (buffer.length < 8) return;
        const length = buffer.readInt32BE(0);
        if (buffer.length < length) return;
        const code = buffer.readInt32BE(4);
        if (code !== SSL_REQUEST && code !== GSSENC_REQUEST) startup = false;
        buffer = buffer.subarray(length);
        continue;
      }
      if (buffer.length < 5) return;
      const length = buffer.readInt32BE(1);
      if (buffer.length < 1 + length) return;
      const type = String.fromCharCode(buffer[0]);
      if (type === 'Q') {
        const text = buffer.toString('utf8', 5, length);
        counts.statements += countStatements(text);
        counts.log?.push(`Q ${text}`);
      } else if (type === 'P') {
        counts.log?.push(`P ${buffer.toString('utf8', 5, length).replace(/\0/g, ' | ')}`);
      } else if (type === 'E') {
        counts.statements += 1;
      }
      buffer = buffer.subarray(1 + length);
    }
  };
}

/** Writes to `socket` after `delayMs` (FIFO: equal delays fire in the order they were set). */
function delayedWriter(socket, delayMs) {
  if (delayMs <= 0) return (chunk) => socket.write(chunk);
  return (chunk) => {
    setTimeout(() => {
      if (!socket.destroyed) socket.write(chunk);
    }, delayMs);
  };
}

/**
 * Starts a proxy on 127.0.0.1 (a free port) forwarding to `target` ({ host, port }); resolves
 * with { port, counts, reset(), close() }.
 */
function startLatencyProxy({ target, delayMs, log }) {
  const counts = { statements: 0, roundTrips: 0, connections: 0, log };
  const sockets = new Set();
  const server = net.createServer((client) => {
    counts.connections++;
    const upstream = net.connect(target.port, target.host);
    sockets.add(client);
    sockets.add(upstream);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const toServer = delayedWriter(upstream, delayMs);
    const toClient = delayedWriter(client, delayMs);
    const count = frontendCounter(counts);
    let answered = true;
    client.on('data', (chunk) => {
      if (answered) counts.roundTrips++;
      answered = false;
      count(chunk);
      toServer(chunk);
    });
    upstream.on('data', (chunk) => {
      answered = true;
      toClient(chunk);
    });
    const end = (other) => () => {
      setTimeout(() => other.end(), delayMs);
    };
    client.on('end', end(upstream));
    upstream.on('end', end(client));
    const destroy = () => {
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.on('error', destroy);
    upstream.on('error', destroy);
    client.on('close', () => sockets.delete(client));
    upstream.on('close', () => sockets.delete(upstream));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: server.address().port,
        counts,
        /** The counts so far, and zero for the next run. */
        take() {
          const taken = { ...counts };
          counts.statements = 0;
          counts.roundTrips = 0;
          counts.connections = 0;
          return taken;
        },
        close() {
          for (const socket of sockets) socket.destroy();
          return new Promise((done) => server.close(() => done()));
        },
      });
    });
  });
}

module.exports = { startLatencyProxy, countStatements };
