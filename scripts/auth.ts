/**
 * Users and clients of the built-in authorization server (AUTH_SERVER=on), in AUTH_SERVER_DIR
 * (./auth). A running server picks changes up at its next request.
 *
 *   npm run auth -- add-user --username alice --fhir-user Patient/alice [--replace]
 *       the password is asked for (hidden), or read from stdin when it is not a terminal
 *   npm run auth -- add-client --id my-app --name "My app" --redirect-uri https://app.example/callback \
 *       --scope "launch/patient openid fhirUser offline_access patient/*.rs" [--replace]
 *   npm run auth -- add-client --id ehr-sync --jwks-file ehr-public-jwks.json --scope "system/*.rs"
 *   npm run auth -- list
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { ClientRegistry, UserDirectory } from '../src/auth/index.js';
import { authServerFrom } from '../src/config.js';

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += chunk;
  return text.replace(/\r?\n$/, '');
}

/** Asks for a line without echoing it. */
async function askHidden(question: string): Promise<string> {
  process.stderr.write(question);
  const silent = new Writable({ write: (_chunk, _encoding, done) => done() });
  const rl = createInterface({ input: process.stdin, output: silent, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

async function password(): Promise<string> {
  if (!process.stdin.isTTY) return readStdin();
  const first = await askHidden('Password: ');
  if ((await askHidden('Again: ')) !== first) throw new Error('the passwords differ');
  return first;
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const settings = authServerFrom({ ...process.env, AUTH_SERVER: 'on' }, process.env.BASE_URL || 'http://localhost:8080/fhir')!;
  const users = new UserDirectory(settings.usersFile);
  const clients = new ClientRegistry(settings.clientsFile);
  if (command === 'add-user') {
    const { values } = parseArgs({ args: rest, options: { username: { type: 'string' }, 'fhir-user': { type: 'string' }, replace: { type: 'boolean' } } });
    if (!values.username) throw new Error('add-user needs --username');
    const user = await users.add({ username: values.username, password: await password(), fhirUser: values['fhir-user'] }, values.replace);
    console.log(`user ${user.username} (id ${user.id}${user.fhirUser ? `, ${user.fhirUser}` : ''}) saved in ${settings.usersFile}`);
  } else if (command === 'add-client') {
    const { values } = parseArgs({
      args: rest,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        scope: { type: 'string' },
        'redirect-uri': { type: 'string', multiple: true },
        'jwks-file': { type: 'string' },
        'jwks-uri': { type: 'string' },
        replace: { type: 'boolean' },
      },
    });
    const jwks = values['jwks-file'] ? JSON.parse(await readFile(values['jwks-file'], 'utf8')) : undefined;
    const client = await clients.add(
      { client_id: values.id, client_name: values.name, scope: values.scope, redirect_uris: values['redirect-uri'], jwks, jwks_uri: values['jwks-uri'] },
      values.replace,
    );
    console.log(`client ${client.client_id} saved in ${settings.clientsFile}`);
  } else if (command === 'list') {
    for (const user of await users.list()) console.log(`user   ${user.username}  id=${user.id}${user.fhirUser ? `  fhirUser=${user.fhirUser}` : ''}`);
    for (const client of await clients.list()) console.log(`client ${client.client_id}  scope="${client.scope}"${client.redirect_uris ? `  redirect_uris=${client.redirect_uris.join(',')}` : ''}`);
  } else {
    throw new Error('usage: npm run auth -- add-user | add-client | list (see scripts/auth.ts)');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
