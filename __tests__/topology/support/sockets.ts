/**
 * Which PostgreSQL backends belong to one local process: the local TCP ports of its sockets (from
 * /proc, so Linux only, and readable by root or the same user) matched against
 * `pg_stat_activity.client_port`. The preset's control sessions and its workers' sessions carry
 * the same application_name; only the process tells them apart.
 */
import * as fs from 'fs';

/** Socket inodes of process `pid`. */
function socketInodes(pid: number): Set<string> {
  const inodes = new Set<string>();
  // A process that has exited holds nothing.
  if (!fs.existsSync(`/proc/${pid}/fd`)) return inodes;
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const link = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
      const match = /^socket:\[(\d+)\]$/.exec(link);
      if (match) inodes.add(match[1]);
    } catch {
      // closed meanwhile
    }
  }
  return inodes;
}

/** Local TCP ports (IPv4 and IPv6) of the sockets process `pid` holds open right now. */
export function localTcpPorts(pid: number): number[] {
  const inodes = socketInodes(pid);
  const ports: number[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(table)) continue;
    for (const line of fs.readFileSync(table, 'utf8').split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
      if (fields.length < 10 || !inodes.has(fields[9])) continue;
      ports.push(parseInt(fields[1].split(':')[1], 16));
    }
  }
  return ports;
}
