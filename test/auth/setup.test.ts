import { execFile } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { loadConfig } from '../../src/config.js';
import { backendKeys, clientCredentials, startAuthServer } from '../helpers/auth.js';

const run = promisify(execFile);

t.test('AUTH_SERVER=on derives the resource server\'s issuer, key file and endpoints; HOST defaults to loopback', async (t) => {
  const config = loadConfig({ AUTH_SERVER: 'on', AUTH_SERVER_DIR: '/srv/auth', BASE_URL: 'https://fhir.example/fhir' });
  t.equal(config.auth.issuer, 'https://fhir.example/auth');
  t.equal(config.auth.jwksFile, '/srv/auth/jwks.json');
  t.equal(config.auth.authorizeUrl, 'https://fhir.example/auth/authorize');
  t.equal(config.auth.tokenUrl, 'https://fhir.example/auth/token');
  t.same(config.auth.audience, ['https://fhir.example/fhir']);
  t.equal(config.host, '127.0.0.1');
});

t.test('AUTH_SERVER=on refuses the settings it sets itself, and bad values', async (t) => {
  for (const name of ['AUTH_ISSUER', 'AUTH_JWKS_URL', 'AUTH_JWKS_FILE', 'AUTH_AUDIENCE', 'AUTH_TOKEN_URL', 'AUTH_DISABLED']) {
    t.throws(() => loadConfig({ AUTH_SERVER: 'on', [name]: name === 'AUTH_DISABLED' ? 'true' : 'https://x.example' }), new RegExp(`${name}.*cannot be set with AUTH_SERVER=on`), name);
  }
  t.throws(() => loadConfig({ AUTH_SERVER: 'yes' }), /AUTH_SERVER must be on or off/);
  t.throws(() => loadConfig({ AUTH_SERVER_DIR: './auth' }), /without AUTH_SERVER=on/);
});

t.test('AUTH_SERVER=on on a non-loopback HOST needs an https BASE_URL (passwords and cookies)', async (t) => {
  t.throws(() => loadConfig({ AUTH_SERVER: 'on', HOST: '0.0.0.0' }), /not a loopback address.*https/s);
  t.throws(() => loadConfig({ AUTH_SERVER: 'on', HOST: '0.0.0.0', BASE_URL: 'http://fhir.example/fhir' }), /https/);
  t.equal(loadConfig({ AUTH_SERVER: 'on', HOST: '0.0.0.0', BASE_URL: 'https://fhir.example/fhir' }).host, '0.0.0.0');
});

t.test('with AUTH_SERVER=on, smart-configuration points at the built-in endpoints and says only what they do', async (t) => {
  const server = await startAuthServer(t);
  const response = await fetch(`${server.fhirBase}/.well-known/smart-configuration`);
  t.equal(response.status, 200);
  const body = await response.json();
  t.equal(body.issuer, server.issuer);
  t.equal(body.authorization_endpoint, server.authorizeUrl);
  t.equal(body.token_endpoint, server.tokenUrl);
  t.equal(body.jwks_uri, `${server.issuer}/jwks`);
  t.same(body.grant_types_supported, ['authorization_code', 'client_credentials', 'refresh_token']);
  t.same(body.token_endpoint_auth_methods_supported, ['none', 'private_key_jwt']);
  t.same(body.code_challenge_methods_supported, ['S256']);
  t.notOk(body.capabilities.includes('client-confidential-symmetric'), 'no client secrets here');
  t.notOk(body.capabilities.includes('launch-ehr'));
  t.ok(body.capabilities.includes('permission-offline'));

  const oidc = await (await fetch(`${server.issuer}/.well-known/openid-configuration`)).json();
  t.equal(oidc.issuer, server.issuer, 'the provider\'s own metadata agrees');
  t.equal(oidc.token_endpoint, body.token_endpoint);
  t.equal(oidc.authorization_endpoint, body.authorization_endpoint);

  const jwks = await (await fetch(body.jwks_uri)).json();
  t.same(jwks.keys.map((k: { kid: string }) => k.kid), JSON.parse(readFileSync(join(server.dir, 'jwks.json'), 'utf8')).keys.map((k: { kid: string }) => k.kid), 'the published keys are the ones the resource server trusts');
  t.notOk(jwks.keys.some((k: Record<string, unknown>) => 'd' in k), 'no private parts');

  const metadata = await (await fetch(`${server.fhirBase}/metadata`)).json();
  const uris = metadata.rest[0].security.extension[0].extension;
  t.same(uris, [{ url: 'authorize', valueUri: server.authorizeUrl }, { url: 'token', valueUri: server.tokenUrl }]);
});

t.test('the signing key is made once, kept owner-only, and reused by the next start', async (t) => {
  const first = await startAuthServer(t);
  const keysFile = join(first.dir, 'keys.json');
  t.equal(statSync(keysFile).mode & 0o077, 0, 'keys.json is readable by its owner only');
  const before = readFileSync(keysFile, 'utf8');
  const second = await startAuthServer(t, { AUTH_SERVER_DIR: first.dir });
  t.equal(readFileSync(keysFile, 'utf8'), before);
  const kids = async (issuer: string) => (await (await fetch(`${issuer}/jwks`)).json()).keys.map((k: { kid: string }) => k.kid);
  t.same(await kids(second.issuer), await kids(first.issuer));
});

t.test('npm run auth adds a user (password from stdin, hashed) and clients, which a running server uses at once', async (t) => {
  const server = await startAuthServer(t);
  const env = { ...process.env, AUTH_SERVER_DIR: server.dir };
  const cli = (args: string[], input?: string) => {
    const child = run(process.execPath, ['--import', 'tsx', 'scripts/auth.ts', ...args], { env });
    child.child.stdin!.end(input ?? '');
    return child;
  };
  const added = await cli(['add-user', '--username', 'dora', '--fhir-user', 'Patient/dora'], 'a password for dora\n');
  t.match(added.stdout, /user dora/);
  const users = readFileSync(join(server.dir, 'users.json'), 'utf8');
  t.notMatch(users, /a password for dora/, 'the password is not stored');
  t.match(users, /\$argon2id\$/);
  t.ok(await server.users.signIn('dora', 'a password for dora'));
  t.notOk(await server.users.signIn('dora', 'a password for dora\n'), 'the newline of stdin is not part of it');

  await t.rejects(cli(['add-user', '--username', 'dora'], 'another password'), /exists already/);
  await t.rejects(cli(['add-user', '--username', 'eve'], 'short'), /at least 8/);

  const keys = await backendKeys();
  const jwksFile = join(server.dir, 'ehr-public.json');
  writeFileSync(jwksFile, JSON.stringify(keys.jwks));
  await cli(['add-client', '--id', 'ehr', '--jwks-file', jwksFile, '--scope', 'system/*.rs']);
  await t.rejects(cli(['add-client', '--id', 'bad', '--redirect-uri', 'https://a.example/cb', '--scope', 'patient/*.rs launch/nonsense']), /unknown scopes launch\/nonsense/);
  t.equal((await clientCredentials(server, 'ehr', keys, 'system/*.rs')).status, 200, 'the running server knows the new client');

  const listed = await cli(['list']);
  t.match(listed.stdout, /user\s+dora/);
  t.match(listed.stdout, /client ehr/);
  t.notMatch(listed.stdout, /argon2/, 'list shows no hashes');
});
