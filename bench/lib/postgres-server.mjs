// A throwaway PostgreSQL 15 cluster for the Postgres bench suites: initdb into a temp directory,
// started on a free loopback port with durable settings (fsync, synchronous_commit and
// full_page_writes left on, unlike the test clusters), stopped and removed by `stop()` or on exit.
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The newest /usr/lib/postgresql/<version>/bin, or null. */
export function findPostgresBin() {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((entry) => existsSync(join(root, entry, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? { bin: join(root, versions[0], 'bin'), version: versions[0] } : null;
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a cluster. `settings` are extra `-c name=value` server settings. Returns
 * { url(database), createDatabase(name), version, settings, stop() }.
 */
export async function startPostgres({ settings = {} } = {}) {
  const found = findPostgresBin();
  if (!found) throw new Error('PostgreSQL server binaries were not found in /usr/lib/postgresql/*/bin');
  const directory = mkdtempSync(join(tmpdir(), 'engram-bench-postgres-'));
  const data = join(directory, 'data');
  const log = join(directory, 'server.log');
  const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
    chownSync(directory, uid, gid);
  }
  const run = (command, args) => {
    const [file, fullArgs] = asRoot
      ? ['runuser', ['-u', 'postgres', '--', join(found.bin, command), ...args]]
      : [join(found.bin, command), args];
    const result = spawnSync(file, fullArgs, { encoding: 'utf8', cwd: directory });
    if (result.status !== 0) {
      const serverLog = existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : '';
      throw new Error(`${command} failed (${result.status}): ${result.stderr || result.stdout}\n${serverLog}`);
    }
  };
  run('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  const all = { max_connections: 200, shared_buffers: '256MB', ...settings };
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-k ${directory}`,
    ...Object.entries(all).map(([name, value]) => `-c ${name}=${value}`),
  ];
  run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options.join(' '), 'start']);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    try {
      run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    } catch {
      // already gone
    }
    rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', stop);
  // Interrupted (Ctrl-C, kill): stop the cluster too, then exit as the signal would have.
  for (const signal of ['SIGINT', 'SIGTERM']) {
    process.once(signal, () => {
      stop();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
  const url = (database) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const pg = (await import('pg')).default;
  return {
    version: found.version,
    settings: all,
    url,
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${name}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
    /**
     * CPU time (ms, user + system) used so far by every process of the cluster (postmaster,
     * backends, WAL writer, checkpointer, autovacuum, including those that have exited), from
     * /proc; null where /proc is not there.
     */
    cpuMs() {
      return clusterCpuMs(data);
    },
  };
}

/** Sum of utime + stime of the postmaster in `data` and its children, in ms; null without /proc. */
export function clusterCpuMs(data) {
  try {
    const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const ticksPerSecond = 100; // USER_HZ on Linux
    let ticks = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      let stat;
      try {
        stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      } catch {
        continue; // exited meanwhile
      }
      // Fields after "(comm)": state, ppid, …, utime (14th field), stime (15th).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // The postmaster's own time includes its reaped children's (cutime, cstime): exited backends count too.
      if (Number(entry) === postmaster) ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      else if (Number(fields[1]) === postmaster) ticks += Number(fields[11]) + Number(fields[12]);
    }
    return (ticks * 1000) / ticksPerSecond;
  } catch {
    return null;
  }
}
