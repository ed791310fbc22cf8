import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MongoClient } from 'mongodb';

/**
 * The embedded database used when MONGODB_URI is unset: a child process speaking the MongoDB
 * wire protocol, with its files under dataDir. A `mongod` on PATH is preferred; otherwise
 * FerretDB on its SQLite backend, built once into a user cache folder by scripts/install-ferretdb.sh.
 */
export interface EmbeddedDatabase {
  uri: string;
  kind: 'mongod' | 'ferretdb';
  stop(): Promise<void>;
}

const FERRETDB_VERSION = 'v1.24.2';
const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const NO_DATABASE_MESSAGE =
  'No database: MONGODB_URI is unset and neither `mongod` nor Go (to build FerretDB) was found. ' +
  'Set MONGODB_URI to a MongoDB server, e.g. MONGODB_URI=mongodb://localhost:27017/fhir';

function onPath(command: string): string | undefined {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path ? path : undefined;
}

function cacheDir(): string {
  return process.env.FHIR_SERVER_CACHE || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fhir-records-server');
}

/** Path of the FerretDB binary, building it first when it is not there yet. */
export function ferretdbBinary(log: (message: string) => void = () => {}): string | undefined {
  const binary = join(cacheDir(), `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
  if (existsSync(binary)) return binary;
  if (!onPath('go')) return undefined;
  log('building FerretDB once (needs the Go module proxy; takes a minute or two)');
  const built = spawnSync('bash', [join(projectRoot, 'scripts', 'install-ferretdb.sh')], {
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

export async function startEmbeddedDatabase(
  dataDir: string,
  log: (message: string) => void = () => {},
): Promise<EmbeddedDatabase> {
  const port = await freePort();
  let kind: EmbeddedDatabase['kind'];
  let child: ChildProcess;
  const mongod = onPath('mongod');
  if (mongod) {
    kind = 'mongod';
    const dbPath = resolve(dataDir, 'mongod');
    mkdirSync(dbPath, { recursive: true });
    child = spawn(mongod, ['--dbpath', dbPath, '--port', String(port), '--bind_ip', '127.0.0.1', '--quiet'], {
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  } else {
    const binary = ferretdbBinary(log);
    if (!binary) throw new Error(NO_DATABASE_MESSAGE);
    kind = 'ferretdb';
    const dbPath = resolve(dataDir, 'ferretdb');
    mkdirSync(dbPath, { recursive: true });
    child = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${dbPath}/`,
        `--listen-addr=127.0.0.1:${port}`,
        `--state-dir=${dbPath}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=error',
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
  }
  const uri = `mongodb://127.0.0.1:${port}/`;
  try {
    await waitUntilReachable(uri, child, 30_000);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  log(`embedded ${kind} listening on 127.0.0.1:${port}, data in ${resolve(dataDir)}`);
  return {
    uri,
    kind,
    stop: () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        child.once('exit', () => {
          clearTimeout(timer);
          done();
        });
        child.kill('SIGTERM');
      }),
  };
}
