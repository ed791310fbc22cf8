import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/**
 * The embedded database used when MONGODB_URI is unset: a child process speaking the MongoDB
 * wire protocol, with its files under dataDir. A `mongod` on PATH is preferred; otherwise
 * SecantusDB (MongoDB's protocol over WiredTiger, with indexes and transactions), built once
 * into a user cache folder by scripts/install-secantus.sh. SecantusDB is GPL-2.0 and runs as a
 * separate process, never linked.
 */
export interface EmbeddedDatabase {
  uri: string;
  kind: 'mongod' | 'secantus';
  /** Closes the engine cleanly: SIGTERM, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
  /** Kills the engine at once (SIGKILL, as a crash would) and resolves when it has exited. */
  kill(): Promise<void>;
}

export const SECANTUS_VERSION = '0.5.3-beta.196';
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** How long a stopping engine gets to close its files before it is killed. */
const STOP_GRACE_MS = 5000;

export const NO_DATABASE_MESSAGE =
  'No database: MONGODB_URI is unset, there is no `mongod` on PATH, and no Rust `cargo` to build the embedded ' +
  'SecantusDB. Do one of these: set MONGODB_URI to a MongoDB server (e.g. MONGODB_URI=mongodb://localhost:27017/fhir); ' +
  'install MongoDB so that `mongod` is on PATH; or install Rust (https://rustup.rs) and run `bash scripts/install-secantus.sh` once.';

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

function cacheDir(): string {
  return process.env.FHIR_SERVER_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fhir-records-server');
}

/** Path of the SecantusDB binary, building it first (once, with cargo) when it is not there yet. */
export function secantusBinary(log: (message: string) => void = () => {}): string | undefined {
  const binary = join(cacheDir(), `secantus-${SECANTUS_VERSION}`, 'bin', 'secantusd-rs');
  if (existsSync(binary)) return binary;
  if (!onPath('cargo')) return undefined;
  log('building the embedded database SecantusDB once with cargo (about 5 minutes on 2 cores)');
  const built = spawnSync('bash', [join(projectRoot, 'scripts', 'install-secantus.sh')], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
    env: { ...process.env, FHIR_SERVER_CACHE: cacheDir() },
  });
  return built.status === 0 && existsSync(binary) ? binary : undefined;
}

/** A TCP port free on the loopback interface right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

async function waitUntilReachable(uri: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`embedded database exited with code ${child.exitCode}`);
    const client = new MongoClient(uri, { serverSelectionTimeoutMS: 500 });
    try {
      await client.connect();
      await client.db('admin').command({ ping: 1 });
      return;
    } catch (error) {
      lastError = error;
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      await client.close().catch(() => {});
    }
  }
  throw new Error(`embedded database did not answer within ${timeoutMs} ms: ${String(lastError)}`);
}

/**
 * The embedded SecantusDB's cache: mongod's default, half of (memory − 1 GB), at least 256 MB.
 * SecantusDB's own default (4 GB) holds 10,000 patients' records but not 100,000, and a full
 * cache makes every request wait for eviction.
 */
export function engineCacheMb(): number {
  return Math.max(256, Math.floor((totalmem() / 2 ** 20 - 1024) / 2));
}

function spawnEngine(dataDir: string, port: number, log: (message: string) => void): { kind: EmbeddedDatabase['kind']; child: ChildProcess } {
  const mongod = onPath('mongod');
  if (mongod) {
    const dbPath = resolve(dataDir, 'mongod');
    mkdirSync(dbPath, { recursive: true });
    // A one-node replica set, not a standalone: only replica sets have multi-document transactions.
    const child = spawn(mongod, ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1', '--replSet', REPLICA_SET, '--quiet'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
    return { kind: 'mongod', child };
  }
  const binary = secantusBinary(log);
  if (!binary) throw new Error(NO_DATABASE_MESSAGE);
  const storagePath = resolve(dataDir, 'secantus');
  mkdirSync(storagePath, { recursive: true });
  // --sync-on-commit: without it SecantusDB acknowledges a write while its WiredTiger log record
  // is still in the engine's own memory (transaction_sync=(enabled=false); WiredTiger's log
  // server writes it out after 50 ms to 1 s, and writeConcern j:true is accepted but not acted
  // on), so a crash of the engine, not only of the machine, loses acknowledged writes.
  // --log-level WARNING: its INFO lines report every slow query with its namespace and command,
  // which would flood the server's output (and the server logs nothing of queries itself).
  const args = ['--host', '127.0.0.1', '--port', String(port), '--storage-path', storagePath, '--sync-on-commit', '--log-level', 'WARNING', '--cache-size', `${engineCacheMb()}M`];
  const child = spawn(binary, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return { kind: 'secantus', child };
}

const REPLICA_SET = 'rs0';
/** MongoDB's NotYetInitialized: a --replSet member that has never been initiated. */
const NOT_YET_INITIALIZED = 94;

/**
 * Makes the embedded mongod the primary of its one-node replica set: initiated on the first
 * start; on later starts its stored configuration names the port of the previous run (the port
 * is chosen anew each time), so the member is set to this run's address (a forced reconfig, as
 * for any single-node set whose host changed). Resolves once it accepts writes.
 */
async function ensureReplicaSet(port: number, timeoutMs: number): Promise<void> {
  const host = `127.0.0.1:${port}`;
  const client = new MongoClient(`mongodb://${host}/?directConnection=true`, { serverSelectionTimeoutMS: 5000 });
  try {
    await client.connect();
    const admin = client.db('admin');
    const status = await admin.command({ replSetGetStatus: 1 }).then(
      (s) => ({ ok: true as const, self: (s.members as { self?: boolean; name: string }[] | undefined)?.find((m) => m.self)?.name }),
      (error: { code?: number }) => ({ ok: false as const, code: error.code }),
    );
    if (!status.ok && status.code === NOT_YET_INITIALIZED) {
      await admin.command({ replSetInitiate: { _id: REPLICA_SET, members: [{ _id: 0, host }] } });
    } else if (!status.ok || status.self !== host) {
      const { config } = await admin.command({ replSetGetConfig: 1 });
      const members = [{ ...config.members[0], host }];
      await admin.command({ replSetReconfig: { ...config, members, version: config.version + 1 }, force: true });
    }
    const deadline = Date.now() + timeoutMs;
    while (!(await admin.command({ hello: 1 })).isWritablePrimary) {
      if (Date.now() > deadline) throw new Error(`the embedded mongod did not become primary of replica set ${REPLICA_SET} within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await client.close().catch(() => {});
  }
}

/** Sends `signal` (then SIGKILL after `graceMs`, when given) and resolves once the engine has exited. */
function terminate(child: ChildProcess, signal: NodeJS.Signals, graceMs?: number): Promise<void> {
  return new Promise<void>((done) => {
    if (child.exitCode !== null || child.signalCode !== null) return done();
    const timer = graceMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(timer);
      done();
    });
    child.kill(signal);
  });
}

export async function startEmbeddedDatabase(
  dataDir: string,
  log: (message: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const port = await freePort();
  const { kind, child } = spawnEngine(dataDir, port, log);
  // mongod: connect to the one member directly (its replica set may not be initiated yet).
  const uri = kind === 'mongod' ? `mongodb://127.0.0.1:${port}/?directConnection=true` : `mongodb://127.0.0.1:${port}/`;
  try {
    await waitUntilReachable(uri, child, 60_000);
    if (kind === 'mongod') await ensureReplicaSet(port, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  log(`embedded ${kind} listening on 127.0.0.1:${port}, data in ${resolve(dataDir)}`);
  return {
    uri,
    kind,
    stop: () => terminate(child, 'SIGTERM', STOP_GRACE_MS),
    kill: () => terminate(child, 'SIGKILL'),
  };
}
