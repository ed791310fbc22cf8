import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { configVariables } from '../helpers/config-variables.js';
import { startServerProcess } from '../helpers/process.js';
import { uniqueDbName } from '../helpers/server.js';

const root = new URL('../../', import.meta.url);
const compose = parse(readFileSync(new URL('docker-compose.yml', root), 'utf8'));
const dockerfile = readFileSync(new URL('Dockerfile', root), 'utf8');

t.test('docker-compose.yml runs the server on MongoDB 7 started as a replica set, initiated by its health check', async (t) => {
  t.same(Object.keys(compose.services).sort(), ['fhir', 'mongo']);
  const { mongo, fhir } = compose.services;
  t.match(mongo.image, /^mongo:7(\.|$)/);
  t.same(mongo.command, ['mongod', '--replSet', 'rs0', '--bind_ip_all']);
  const script = mongo.healthcheck.test.at(-1) as string;
  t.same(mongo.healthcheck.test.slice(0, 4), ['CMD', 'mongosh', '--quiet', '--eval']);
  t.match(script, /rs\.initiate\(\{ _id: 'rs0', members: \[\{ _id: 0, host: 'mongo:27017' \}\] \}\)/);
  t.doesNotThrow(() => new Function(script), 'the mongosh script is valid JavaScript');
  t.same(fhir.depends_on, { mongo: { condition: 'service_healthy' } }, 'the server waits for a primary');
  t.match(fhir.environment.MONGODB_URI, /^mongodb:\/\/mongo:27017\/\w+\?replicaSet=rs0$/);
  t.equal(fhir.build, '.');
});

t.test('docker-compose.yml mounts profiles/ where PROFILES_DIR points, and publishes the open port on loopback only', async (t) => {
  const { fhir } = compose.services;
  t.ok(fhir.volumes.includes(`./profiles:${fhir.environment.PROFILES_DIR}:ro`));
  t.equal(fhir.environment.AUTH_DISABLED, 'true');
  t.same(fhir.ports, ['127.0.0.1:8080:8080']);
});

t.test('every environment variable docker-compose.yml and the Dockerfile set is one src/config.ts reads', async (t) => {
  const known = configVariables();
  t.ok(known.has('MONGODB_URI') && known.has('AUTH_ISSUER'), 'config.ts is parsed');
  for (const name of Object.keys(compose.services.fhir.environment)) t.ok(known.has(name), `compose: ${name}`);
  const env = /^ENV (.*)$/m.exec(dockerfile)![1];
  // NODE_ENV is Node's and npm's own, not the server's.
  for (const [, name] of env.matchAll(/([A-Z_]+)=/g)) if (name !== 'NODE_ENV') t.ok(known.has(name), `Dockerfile: ${name}`);
});

t.test('the Dockerfile builds in two stages on node:20-bookworm-slim and runs compiled code with production dependencies as a non-root user', async (t) => {
  t.equal([...dockerfile.matchAll(/^FROM node:20-bookworm-slim\b/gm)].length, 2);
  t.match(dockerfile, /^RUN npm ci --omit=dev/m);
  t.match(dockerfile, /^COPY --from=build \/app\/dist\/src \.\/dist\/src$/m);
  t.match(dockerfile, /^USER node$/m);
  t.match(dockerfile, /exec node dist\/src\/main\.js/);
});

t.test('the Dockerfile HEALTHCHECK, run with node, passes against a running server and fails without one', async (t) => {
  const command = JSON.parse(/^\s*CMD (\[.*\])$/m.exec(dockerfile.slice(dockerfile.indexOf('HEALTHCHECK')))![1]) as string[];
  t.equal(command[0], 'node', 'no curl in the slim image: node itself');
  const run = (port: string) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, command.slice(1), { env: { ...process.env, PORT: port }, stdio: 'ignore' });
      child.on('exit', (code) => resolve(code));
    });
  const server = await startServerProcess(t, uniqueDbName());
  const port = new URL(server.base).port;
  t.equal(await run(port), 0, 'healthy');
  server.child.kill('SIGTERM');
  await server.exited;
  t.equal(await run(port), 1, 'unhealthy once the server is gone');
});
