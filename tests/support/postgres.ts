/**
 * A throwaway PostgreSQL server for tests: `initdb` into a temp directory, `pg_ctl start` on a
 * free port (TCP on 127.0.0.1 and a Unix socket in the same directory), one database per test
 * file, everything stopped and removed afterwards.
 *
 *   const postgres = usePostgres();          // registers beforeAll / afterAll
 *   runStoreConformance({ skip: postgres.skip, create: () => postgresStore({ pool: postgres.pool, … }) });
 *
 * Binaries are looked up in /usr/lib/postgresql/<version>/bin (Debian's layout), then on PATH.
 * When they are missing, CI (CI=true) fails loudly and a local run skips with the reason.
 * As root, `initdb` and `postgres` run as the `postgres` OS user (they refuse to run as root).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { postgresStore } from '@engram/adapters/postgres';
import { makeRecord } from '@engram/core/testing';
import pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import { seededRandom } from './random.js';

const installHint = 'install PostgreSQL (Debian: `apt-get install -y postgresql`)';

interface Binaries {
  bin: string;
  version: number;
}

/** initdb and pg_ctl of the newest installed PostgreSQL, or the reason they cannot be used. */
export function findPostgres(): Binaries | { missing: string } {
  const candidates: Binaries[] = [];
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    for (const entry of readdirSync(root)) {
      const bin = join(root, entry, 'bin');
      if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) candidates.push({ bin, version: Number(entry) || 0 });
    }
  }
  candidates.sort((a, b) => b.version - a.version);
  if (candidates[0]) return candidates[0];
  const onPath = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const initdb = onPath.stdout.trim();
  if (onPath.status === 0 && initdb) return { bin: join(initdb, '..'), version: 0 };
  return { missing: `PostgreSQL server binaries (initdb, pg_ctl) were not found in ${root}/*/bin or on PATH: ${installHint}` };
}

/**
 * Why Postgres tests cannot run here, or undefined when they can. In CI a missing server is an
 * error, not a skip: the suites that prove the adapter must not silently vanish.
 */
export function postgresSkipReason(): string | undefined {
  const found = findPostgres();
  if (!('missing' in found)) {
    if (isRoot() && !hasPostgresUser()) {
      return failInCi('running as root needs the `postgres` OS user to run initdb (Debian creates it with the postgresql package)');
    }
    return undefined;
  }
  return failInCi(found.missing);
}

function failInCi(reason: string): string {
  if (process.env.CI === 'true' || process.env.CI === '1') throw new Error(`Postgres tests cannot run in CI: ${reason}`);
  return reason;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function hasPostgresUser(): boolean {
  return spawnSync('id', ['-u', 'postgres']).status === 0;
}

function postgresIds(): { uid: number; gid: number } {
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  return { uid, gid };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface PostgresServer {
  readonly host: string;
  readonly port: number;
  /** A connection string for one database of this server. */
  url(database: string): string;
  /** Creates a database (idempotent) and returns its connection string. */
  createDatabase(name: string): Promise<string>;
  stop(): void;
}

/** Starts a fresh server. Stop it with `stop()` (also done on process exit). */
export async function startPostgres(): Promise<PostgresServer> {
  const found = findPostgres();
  if ('missing' in found) throw new Error(found.missing);
  const directory = mkdtempSync(join(tmpdir(), 'engram-postgres-'));
  const data = join(directory, 'data');
  const log = join(directory, 'server.log');
  const asRoot = isRoot();
  if (asRoot) {
    const { uid, gid } = postgresIds();
    chownSync(directory, uid, gid);
  }
  // As root the commands run as `postgres`; otherwise as the current user.
  const run = (command: string, args: string[]) => {
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

  let port = 0;
  let started = false;
  for (let attempt = 0; attempt < 5 && !started; attempt++) {
    port = await freePort();
    const options = [
      `-p ${port}`,
      '-c listen_addresses=127.0.0.1',
      `-k ${directory}`,
      '-c max_connections=200',
      // A test server: durability is not needed, speed is.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
    ].join(' ');
    try {
      run('pg_ctl', ['-D', data, '-l', log, '-w', '-t', '60', '-o', options, 'start']);
      started = true;
    } catch (error) {
      if (attempt === 4) throw error;
    }
  }

  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', stop);
    try {
      run('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already gone; the directory is removed either way.
    }
    rmSync(directory, { recursive: true, force: true });
  };
  process.once('exit', stop);

  const host = '127.0.0.1';
  const url = (database: string) => `postgres://postgres@${host}:${port}/${database}`;
  return {
    host,
    port,
    url,
    async createDatabase(name: string) {
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        const exists = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
        if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
      } finally {
        await client.end();
      }
      return url(name);
    },
    stop,
  };
}

export interface PostgresFixture {
  /** Set when the server cannot run here (local runs only; CI fails instead). */
  readonly skip: string | undefined;
  /** The file's database (valid inside tests, after beforeAll). */
  readonly url: string;
  /** A pool on the file's database (valid inside tests, after beforeAll). */
  readonly pool: pg.Pool;
  readonly server: PostgresServer;
  /** A fresh schema name for one store (e.g. 'engram_t12'). */
  nextSchema(): string;
  /** Drops a schema and everything in it. */
  dropSchema(schema: string): Promise<void>;
}

let schemaCounter = 0;

/**
 * Registers beforeAll/afterAll hooks that start a server and create one database for the calling
 * test file. Call it at the top level of the file.
 */
export function usePostgres(options: { database?: string } = {}): PostgresFixture {
  const skip = postgresSkipReason();
  let server: PostgresServer | undefined;
  let pool: pg.Pool | undefined;
  let url: string | undefined;
  const database = options.database ?? `engram_${userInfo().username.replace(/\W/g, '')}_${process.pid}`;
  if (!skip) {
    beforeAll(async () => {
      server = await startPostgres();
      url = await server.createDatabase(database);
      pool = new pg.Pool({ connectionString: url, max: 20 });
    }, 120_000);
    afterAll(async () => {
      await pool?.end();
      server?.stop();
    }, 60_000);
  }
  const need = <T>(value: T | undefined, what: string): T => {
    if (value === undefined)
      throw new Error(`the Postgres ${what} is only available inside tests (after beforeAll)${skip ? `; skipped: ${skip}` : ''}`);
    return value;
  };
  return {
    skip,
    get url() {
      return need(url, 'connection string');
    },
    get pool() {
      return need(pool, 'pool');
    },
    get server() {
      return need(server, 'server');
    },
    nextSchema: () => `engram_t${process.pid}_${++schemaCounter}`,
    async dropSchema(schema: string) {
      await need(pool, 'pool').query(`DROP SCHEMA IF EXISTS "${schema.replace(/"/g, '""')}" CASCADE`);
    },
  };
}

export interface PgliteFixture {
  /** The shared in-process database (valid inside tests, after beforeAll). */
  readonly database: PGlite;
  /** A fresh schema name for one store. */
  nextSchema(): string;
}

/**
 * Registers beforeAll/afterAll hooks that create one PGlite database with pgvector for the
 * calling test file: a real Postgres engine in process, for the pgvector code path.
 */
export function usePglite(): PgliteFixture {
  let database: PGlite | undefined;
  beforeAll(async () => {
    database = await PGlite.create({ extensions: { vector } });
  }, 60_000);
  afterAll(async () => {
    await database?.close();
  });
  return {
    get database() {
      if (!database) throw new Error('the PGlite database is only available inside tests (after beforeAll)');
      return database;
    },
    nextSchema: () => `engram_p${process.pid}_${++schemaCounter}`,
  };
}

/**
 * Fills `schema` with `rows` memories of eight words drawn from 200 filler words (`filler0` …)
 * plus `row<index>`, through the store, then ANALYZEs it: from 5,000 rows, Postgres lexical search
 * takes its large-table path (statistics from a sample and ANALYZE, frequencies cached).
 */
export async function writeFillerMemories(fixture: PostgresFixture, schema: string, seed: number, rows = 5_400): Promise<void> {
  const store = postgresStore({ pool: fixture.pool, schema, vectors: false });
  const next = seededRandom(seed);
  const words = Array.from({ length: 200 }, (_, index) => `filler${index}`);
  const records = Array.from({ length: rows }, (_, index) =>
    makeRecord({ content: `${Array.from({ length: 8 }, () => words[Math.floor(next() * words.length)]).join(' ')} row${index}` }),
  );
  await store.write(records.map((record) => ({ record })));
  await store.close();
  await fixture.pool.query(`ANALYZE "${schema}".memories`);
}
