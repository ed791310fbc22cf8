import { randomBytes } from 'node:crypto';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import { buildApp, type AppOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';

/** The part of a tap test a helper needs: teardown registration. */
interface TestLike {
  teardown(fn: () => unknown): void;
}

export interface TestServer {
  app: FastifyInstance;
  db: Db;
  client: MongoClient;
  config: Config;
  /** The base path under which FHIR routes are mounted ("/fhir"). */
  base: string;
  request(options: InjectOptions): Promise<LightMyRequestResponse>;
  /** Parsed JSON body of a response (throws if it is not JSON). */
  json<T = any>(response: LightMyRequestResponse): T;
}

/** The database the test runner (scripts/test.ts) started, or MONGODB_URI given to it. */
function databaseUri(): Promise<string> {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('MONGODB_URI is unset: run tests with `npm test` (or `npm test -- test/some.test.ts`)');
  return Promise.resolve(uri);
}

export function uniqueDbName(): string {
  return `test_${randomBytes(6).toString('hex')}`;
}

export interface TestServerOptions {
  dbName?: string;
  env?: Record<string, string>;
  keepDb?: boolean;
  app?: Partial<AppOptions>;
  /** A database engine of the test's own (e.g. one it stops and restarts) instead of the shared one. */
  uri?: string;
  /** Extra options for the server's MongoClient. */
  client?: MongoClientOptions;
}

/**
 * Builds the server on a fresh database of its own (dropped at teardown), or on `dbName` to
 * share data between instances. Requests go through fastify.inject (the full HTTP pipeline).
 * `client` adds driver options (e.g. `monitorCommands` to see the commands sent).
 */
export async function startTestServer(t: TestLike, options: TestServerOptions = {}): Promise<TestServer> {
  const uri = options.uri ?? (await databaseUri());
  const client = new MongoClient(uri, { ignoreUndefined: true, ...options.client });
  await client.connect();
  const dbName = options.dbName ?? uniqueDbName();
  const db = client.db(dbName);
  const config = loadConfig({ BASE_URL: 'http://fhir.test/fhir', MONGODB_URI: uri, ...options.env });
  const app = await buildApp({ config, db, logger: false, ...options.app });
  t.teardown(async () => {
    await app.close();
    if (!options.dbName && !options.keepDb) await db.dropDatabase().catch(() => {});
    await client.close();
  });
  return {
    app,
    db,
    client,
    config,
    base: '/fhir',
    request: (opts) => app.inject(opts),
    json: (response) => JSON.parse(response.body),
  };
}

export const FHIR_JSON_HEADERS = { 'content-type': 'application/fhir+json' };
