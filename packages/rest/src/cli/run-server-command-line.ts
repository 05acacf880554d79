import cluster from 'node:cluster';
import { homedir } from 'node:os';
import { isAbsolute, parse as parsePath, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  type EncryptionOptions,
  EngramError,
  encryptionFromEnvironment,
  type LanguageModel,
  parseScheduleDuration,
  ValidationError,
} from '@engram/core';
import { modelFromEnvironment } from '@engram/models';
import { type Authenticator, apiKeys, mintKey, parseApiKeysVariable } from '../auth/api-keys.js';
import { KeyFile } from '../auth/key-file.js';
import type { TenantMemoryFactory } from '../auth/tenant-memories.js';
import { checkTenantName } from '../auth/tenant-name.js';
import { scheduleTenantConsolidation } from '../consolidation/consolidation-schedule.js';
import { isLoopback } from '../server/loopback.js';
import { consolidationTenants, DEFAULT_HOST, DEFAULT_PORT, type ServeOptions, serve } from '../server/serve.js';
import { defaultKeyFile, type StoreLocation, tenantMemoryFactory } from '../server/tenant-stores.js';
import { followLauncher, missingServerNodeFlags, RELAUNCHED_VARIABLE, relaunchWithServerFlags } from './server-node-flags.js';

export const SERVER_USAGE = `Usage: engram-server [options]                       serve the REST API (same as engram serve)
       engram-server keys create --tenant <name> [--label <text>]
       engram-server keys list
       engram-server keys revoke <key id>

Options:
  --port <n>             port (default ${DEFAULT_PORT}; 0 picks a free one)
  --host <address>       interface (default ${DEFAULT_HOST}); any other needs API keys
  --path <file.db>       SQLite file (ENGRAM_PATH; default ./.engram/memory.db)
  --pg-url <url>         Postgres instead of SQLite (ENGRAM_PG_URL)
  --keys-file <file>     API key file (ENGRAM_KEYS_FILE; default <file>.keys.json beside the SQLite file)
  --workers <n>          processes sharing the port and the store (default 1)
  --cors-origin <origin> let browser pages from this origin call the API (repeatable)
  --body-limit <bytes>   largest JSON body (default 1000000)
  --rate-limit <n>       requests per second per key, bursts of 2n (default 50 with keys; 0 turns it off)
  --timeout <ms>         request timeout (default 30000)
  --embedder <choice>    embedder of new stores: auto, hash, transformers[:model] (ENGRAM_EMBEDDER)
  --allow-ingest <dir>   let POST /api/ingest read server files in this folder (repeatable; default: text and uploads only)
  --archive-dir <dir>    where each tenant's consolidation archive goes (default: beside its SQLite file; needed on Postgres)
  --access-flush-ms <ms> how long searches' access statistics are gathered before one write (default 1000; 0: after each search)
  --consolidate-every <duration>
                         apply consolidation to every tenant's store this often: 24h, 30m, 7d (default: never)
  -h, --help             this help

API keys: ENGRAM_API_KEYS='{"team_a":"<key>"}' and/or the key file written by \`keys create\`.
Without any key the server answers this machine only (tenant "local"); with keys, every request needs one.
Language model for POST /api/memories with infer: true: ENGRAM_MODEL (e.g. openai:gpt-4o-mini, ollama:qwen2.5:7b),
ENGRAM_MODEL_URL, ENGRAM_MODEL_KEY. Without ENGRAM_MODEL, infer answers 400.
Sensitive memories ("sensitive": true): ENGRAM_ENCRYPTION_KEY (64 hex characters), ENGRAM_ENCRYPTION_PREVIOUS_KEYS.
Without ENGRAM_ENCRYPTION_KEY, sensitive writes answer 400.`;

export interface ServerCommandLineIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Called once the server accepts connections, with its URL (what `engram dashboard` opens). */
  listening?(url: string): void;
  /**
   * This command line, to run again in a child process with the server's V8 flags
   * (`SERVER_NODE_FLAGS`) when this process lacks them and serves with one worker (workers get
   * them when forked). The bins pass theirs; without it the server runs in this process as is.
   */
  relaunch?: { script: string; argv: string[] };
}

type Environment = Record<string, string | undefined>;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  path: { type: 'string' },
  'pg-url': { type: 'string' },
  'keys-file': { type: 'string' },
  workers: { type: 'string' },
  'cors-origin': { type: 'string', multiple: true },
  'body-limit': { type: 'string' },
  'rate-limit': { type: 'string' },
  timeout: { type: 'string' },
  embedder: { type: 'string' },
  'allow-ingest': { type: 'string', multiple: true },
  'archive-dir': { type: 'string' },
  'consolidate-every': { type: 'string' },
  'access-flush-ms': { type: 'string' },
  tenant: { type: 'string' },
  label: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

class UsageError extends Error {}

const ANONYMOUS_NOTE =
  '[engram-server] no API keys: serving tenant "local" anonymously, to this machine only (engram keys create --tenant <name> to add keys)';

function environmentValue(env: Environment, name: string): string | undefined {
  const value = env[name]?.trim();
  return value ? value : undefined;
}

function integerOption(value: string | undefined, name: string, minimum: number, maximum = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < minimum || Number(value) > maximum) {
    throw new UsageError(`--${name} must be an integer from ${minimum} to ${maximum} (got ${JSON.stringify(value)})`);
  }
  return Number(value);
}

type Values = ReturnType<typeof parse>['values'];

function parse(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

function storeLocation(values: Values, env: Environment, cwd: string): StoreLocation {
  if (values.path !== undefined && values['pg-url'] !== undefined) throw new UsageError('give one store: --path <file> or --pg-url <url>');
  const postgres = values['pg-url'] ?? (values.path === undefined ? environmentValue(env, 'ENGRAM_PG_URL') : undefined);
  if (postgres) return { kind: 'postgres', connectionString: postgres };
  const given = values.path ?? environmentValue(env, 'ENGRAM_PATH');
  if (given === ':memory:') return { kind: 'sqlite', path: given };
  const expanded = given?.startsWith('~/') ? `${homedir()}${given.slice(1)}` : given;
  if (expanded) return { kind: 'sqlite', path: isAbsolute(expanded) ? expanded : resolve(cwd, expanded) };
  // Started at the file-system root (as some clients do), nothing can be written there: use the home folder.
  const atRoot = parsePath(resolve(cwd)).root === resolve(cwd);
  return { kind: 'sqlite', path: atRoot ? resolve(homedir(), '.engram', 'memory.db') : resolve(cwd, '.engram', 'memory.db') };
}

function keyFilePath(values: Values, env: Environment, store: StoreLocation, cwd: string): string | undefined {
  const given = values['keys-file'] ?? environmentValue(env, 'ENGRAM_KEYS_FILE');
  if (given) return isAbsolute(given) ? given : resolve(cwd, given);
  return defaultKeyFile(store);
}

async function runKeys(positionals: string[], values: Values, env: Environment, cwd: string, io: ServerCommandLineIo): Promise<number> {
  const store = storeLocation(values, env, cwd);
  const path = keyFilePath(values, env, store, cwd);
  if (!path)
    throw new UsageError('name the key file with --keys-file <file> (or ENGRAM_KEYS_FILE): a Postgres store has no file to put it beside');
  const file = new KeyFile(path);
  const [action, argument] = positionals;
  if (action === 'create') {
    const tenant = checkTenantName(values.tenant ?? argument, '--tenant');
    const minted = await mintKey();
    const keys = await file.list();
    keys.push({
      id: minted.id,
      tenant,
      salt: minted.salt,
      hash: minted.hash,
      label: values.label ?? null,
      createdAt: new Date().toISOString(),
    });
    await file.write(keys);
    if (values.json) io.stdout.write(`${JSON.stringify({ key: minted.key, id: minted.id, tenant, file: path })}\n`);
    else {
      io.stdout.write(`${minted.key}\n`);
      io.stderr.write(`created key ${minted.id} for tenant ${tenant} in ${path}; it is shown once: only its scrypt hash is kept\n`);
    }
    return 0;
  }
  if (action === 'list') {
    const keys = (await file.list()).map(({ id, tenant, label, createdAt }) => ({ id, tenant, label, createdAt }));
    if (values.json) io.stdout.write(`${JSON.stringify(keys)}\n`);
    else if (keys.length === 0) io.stdout.write(`no keys in ${path}\n`);
    else for (const key of keys) io.stdout.write(`${key.id}  ${key.tenant}  ${key.createdAt}${key.label ? `  ${key.label}` : ''}\n`);
    return 0;
  }
  if (action === 'revoke') {
    if (!argument) throw new UsageError('keys revoke needs the key id (engram keys list shows them)');
    const keys = await file.list();
    const id = argument.startsWith('egk_') ? argument.split('_')[1] : argument;
    const remaining = keys.filter((key) => key.id !== id);
    if (remaining.length === keys.length) {
      io.stderr.write(`no key ${JSON.stringify(argument)} in ${path}; engram keys list shows the ids\n`);
      return 1;
    }
    await file.write(remaining);
    io.stderr.write(`revoked key ${id}; running servers refuse it within a second\n`);
    return 0;
  }
  throw new UsageError('keys takes create, list or revoke');
}

/** Keys of sensitive memories from ENGRAM_ENCRYPTION_KEY, …_PREVIOUS_KEYS and ENGRAM_ENCRYPT_METADATA (as the engram package reads them). */
function encryptionFrom(env: Environment): EncryptionOptions | undefined {
  return encryptionFromEnvironment(env);
}

function folder(value: string, cwd: string): string {
  const expanded = value.startsWith('~/') ? `${homedir()}${value.slice(1)}` : value;
  return isAbsolute(expanded) ? expanded : resolve(cwd, expanded);
}

/** The serve options a command line describes (flags win over the environment). */
export function serveOptionsFrom(
  values: Values,
  env: Environment,
  cwd: string,
  log: (message: string) => void,
): ServeOptions & { store: StoreLocation; workers: number; model?: LanguageModel } {
  const store = storeLocation(values, env, cwd);
  const keyFile = keyFilePath(values, env, store, cwd);
  const keys = parseApiKeysVariable(environmentValue(env, 'ENGRAM_API_KEYS'));
  const rate = integerOption(values['rate-limit'], 'rate-limit', 0);
  const bodyLimit = integerOption(values['body-limit'], 'body-limit', 1);
  const timeout = integerOption(values.timeout, 'timeout', 1);
  const embedder = values.embedder ?? environmentValue(env, 'ENGRAM_EMBEDDER');
  const model = modelFromEnvironment(env);
  const encryption = encryptionFrom(env);
  const accessFlushMs = integerOption(values['access-flush-ms'], 'access-flush-ms', 0, 3_600_000);
  const archiveDirectory = values['archive-dir'] !== undefined ? folder(values['archive-dir'], cwd) : undefined;
  let consolidateEvery: number | undefined;
  if (values['consolidate-every'] !== undefined) {
    const parsed = parseScheduleDuration(values['consolidate-every']);
    if (parsed === null) {
      throw new UsageError(
        `--consolidate-every must be a duration of at least a minute such as 24h, 30m or 7d (got "${values['consolidate-every']}")`,
      );
    }
    consolidateEvery = parsed;
  }
  return {
    store,
    workers: integerOption(values.workers, 'workers', 1, 64) ?? 1,
    ...(model ? { model } : {}),
    memory: tenantMemoryFactory({
      store,
      ...(embedder ? { embedder } : {}),
      ...(model ? { model } : {}),
      ...(encryption ? { encryption } : {}),
      ...(archiveDirectory ? { archiveDirectory } : {}),
      ...(accessFlushMs !== undefined ? { accessFlushMs } : {}),
      log,
    }),
    ...(values['allow-ingest'] ? { allowIngest: values['allow-ingest'].map((path) => folder(path, cwd)) } : {}),
    ...(consolidateEvery !== undefined ? { consolidateEvery } : {}),
    auth: apiKeys({ ...(keys ? { keys } : {}), ...(keyFile ? { file: keyFile } : {}) }),
    port: integerOption(values.port ?? environmentValue(env, 'ENGRAM_PORT'), 'port', 0, 65_535) ?? DEFAULT_PORT,
    host: values.host ?? DEFAULT_HOST,
    ...(values['cors-origin'] ? { corsOrigins: values['cors-origin'] } : {}),
    ...(bodyLimit !== undefined ? { bodyLimit } : {}),
    ...(rate !== undefined ? { rateLimit: rate === 0 ? false : { perSecond: rate } } : {}),
    ...(timeout !== undefined ? { requestTimeoutMs: timeout } : {}),
    handleSignals: true,
    log,
  };
}

function describe(store: StoreLocation): string {
  if (store.kind === 'sqlite') return `sqlite ${store.path}`;
  try {
    const url = new URL(store.connectionString);
    if (url.password) url.password = '***';
    return `postgres ${url}`;
  } catch {
    return 'postgres';
  }
}

/**
 * `engram-server` / `engram serve` / `engram keys`. Resolves with the exit code once the server
 * has stopped (SIGTERM/SIGINT stop it gracefully). With --workers N, the primary process forks N
 * workers that share the port and the store, and restarts one that dies.
 */
export async function runServerCommandLine(
  argv: string[],
  io: ServerCommandLineIo,
  env: Environment = process.env,
  cwd = process.cwd(),
): Promise<number> {
  const log = (message: string) => io.stderr.write(`[engram-server] ${message}\n`);
  try {
    const { values, positionals } = parse(argv);
    if (values.help) {
      io.stdout.write(`${SERVER_USAGE}\n`);
      return 0;
    }
    if (positionals[0] === 'keys') return await runKeys(positionals.slice(1), values, env, cwd, io);
    if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
    const options = serveOptionsFrom(values, env, cwd, log);
    if (options.workers > 1 && cluster.isPrimary) return await runPrimary(options, argv, log, io, env);
    if (options.workers === 1 && cluster.isPrimary && io.relaunch && env[RELAUNCHED_VARIABLE] !== '1') {
      const flags = missingServerNodeFlags(process.execArgv, env.NODE_OPTIONS ?? '');
      if (flags.length > 0) return await relaunchWithServerFlags(flags, io.relaunch, env);
    }
    followLauncher(env);
    // With --workers, the primary runs the consolidation schedule: one run per interval, not one per worker.
    if (cluster.isWorker) delete options.consolidateEvery;
    const handle = await serve(options);
    const workerNote = cluster.isWorker ? ` (worker ${cluster.worker?.id})` : '';
    if (cluster.isWorker) process.send?.({ engram: 'listening', url: handle.url, authenticated: handle.authenticated });
    else {
      const anonymous = handle.authenticated ? '' : `\n${ANONYMOUS_NOTE}`;
      const model = options.model ? `; infer uses ${options.model.id}` : '';
      log(
        `serving ${describe(options.store)} at ${handle.url}${workerNote} — dashboard at ${handle.url}/, docs at ${handle.url}/docs${model}${anonymous}`,
      );
      if (options.consolidateEvery !== undefined) log(consolidationNote(options.consolidateEvery));
      io.listening?.(handle.url);
    }
    await handle.closed;
    // A worker's IPC channel keeps it alive: let go of it so the process can end.
    if (cluster.isWorker) cluster.worker?.disconnect();
    else log('stopped: in-flight requests finished and the store is closed');
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`engram-server: ${error.message}\n\n${SERVER_USAGE}\n`);
      return 2;
    }
    if (EngramError.isInstance(error)) {
      io.stderr.write(`engram-server: ${error.message}\n`);
      return ValidationError.isInstance(error) ? 2 : 1;
    }
    io.stderr.write(`engram-server: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}

function consolidationNote(everyMs: number): string {
  return `consolidating every tenant's store every ${Math.round(everyMs / 60_000)} min (each into its own archive)`;
}

async function runPrimary(
  options: ReturnType<typeof serveOptionsFrom>,
  argv: string[],
  log: (message: string) => void,
  io: ServerCommandLineIo,
  env: Environment,
): Promise<number> {
  // Refuse a public host without keys here, before forking workers that would each refuse it.
  if (!isLoopback(options.host ?? DEFAULT_HOST) && !(await (options.auth as ReturnType<typeof apiKeys>).configured())) {
    throw new ValidationError([
      {
        field: 'host',
        message: `${options.host} is reachable from other machines, and this server has no API keys: create one (engram keys create --tenant <name>) or bind 127.0.0.1`,
      },
    ]);
  }
  cluster.setupPrimary({
    args: argv,
    silent: false,
    execArgv: [...process.execArgv, ...missingServerNodeFlags(process.execArgv, env.NODE_OPTIONS ?? '')],
  });
  let stopping = false;
  let announced = false;
  let listening = 0;
  const spawn = () => {
    const worker = cluster.fork({ ENGRAM_WORKER: '1' });
    worker.on('message', (message: { engram?: string; url?: string; authenticated?: boolean }) => {
      if (message?.engram !== 'listening') return;
      listening++;
      if (!announced && listening === options.workers) {
        announced = true;
        const anonymous = message.authenticated ? '' : `\n${ANONYMOUS_NOTE}`;
        log(
          `serving ${describe(options.store)} at ${message.url} with ${options.workers} workers — dashboard at ${message.url}/, docs at ${message.url}/docs${anonymous}`,
        );
        if (message.url) io.listening?.(message.url);
      }
    });
  };
  for (let index = 0; index < options.workers; index++) spawn();
  // The schedule runs here, once for all workers: each run opens a tenant's store, consolidates it and closes it.
  const factory = options.memory as TenantMemoryFactory;
  const authenticator = options.auth as Authenticator;
  const schedule =
    options.consolidateEvery === undefined
      ? undefined
      : scheduleTenantConsolidation({
          everyMs: options.consolidateEvery,
          tenants: () => consolidationTenants(authenticator),
          memoryOf: async (tenant) => {
            const memory = await factory(tenant);
            return { memory, release: () => memory.close() };
          },
          log,
        });
  if (options.consolidateEvery !== undefined) log(consolidationNote(options.consolidateEvery));
  let lastRestart = 0;
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    log(`worker ${worker.id} exited (${signal ?? code}); starting another`);
    const wait = Math.max(0, 1000 - (Date.now() - lastRestart));
    lastRestart = Date.now() + wait;
    setTimeout(() => {
      if (!stopping) spawn();
    }, wait);
  });
  return new Promise<number>((resolveExit) => {
    const stop = () => {
      if (stopping) return;
      stopping = true;
      schedule?.stop();
      log('stopping: workers finish their requests, then close the store');
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
    const check = () => {
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) {
        void (schedule?.idle() ?? Promise.resolve()).then(() => {
          log('stopped: every worker finished its requests and closed the store');
          resolveExit(0);
        });
      }
    };
    cluster.on('exit', check);
  });
}
