/**
 * Users and clients of the built-in authorization server (AUTH_SERVER=on), in AUTH_SERVER_DIR
 * (./auth). A running server picks changes up at its next request.
 *
 *   npm run auth -- add-user --username alice --fhir-user Patient/alice [--replace]
 *       the password is asked for (hidden), or read from stdin when it is not a terminal
 *   npm run auth -- add-client --id my-app --name "My app" --redirect-uri https://app.example/callback \
 *       --scope "launch/patient openid fhirUser offline_access patient/*.rs" [--replace]
 *   npm run auth -- add-client --id ehr-sync --jwks-file ehr-public-jwks.json --scope "system/*.rs"
 *   npm run auth -- add-client --id reporting --secret-generate --scope "system/*.rs"
 *       a random secret, printed once (only its SHA-256 digest is stored); --secret instead asks
 *       for one (hidden), or reads it from stdin, as for passwords
 *   npm run auth -- add-user --username dr-lee --fhir-user Practitioner/lee --labels R,PSY --roles PRCP [--break-glass]
 *   npm run auth -- add-client --id loader --secret-generate --scope "system/*.cruds" --labels PSY [--roles ...] \
 *       [--purpose-of-use TREAT]
 *       --labels and --roles: what the user's tokens (or a backend service's) grant; --purpose-of-use:
 *       what every token of the client is for (BTG: an emergency-access app, for --break-glass users)
 *   npm run auth -- list
 */
import { readFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { authMethodOf, ClientRegistry, generateClientSecret, splitCodes, UserDirectory } from '../src/auth/index.js';
import { authServerFrom, restrictedLabelsFrom } from '../src/config.js';

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

async function password(label = 'Password'): Promise<string> {
  if (!process.stdin.isTTY) return readStdin();
  const first = await askHidden(`${label}: `);
  if ((await askHidden('Again: ')) !== first) throw new Error('the passwords differ');
  return first;
}

/** The codes of a --labels, --roles or --purpose-of-use option; undefined when not given. */
function codesOption(value: string | undefined, option: string): string[] | undefined {
  if (value === undefined) return undefined;
  const codes = splitCodes(value);
  if (codes.length === 0) throw new Error(`${option} needs codes, separated by commas`);
  return codes;
}

/** Points out labels the resource server does not restrict (a typo, or RESTRICTED_LABELS set otherwise). */
function noteUnrestricted(labels: string[] | undefined): void {
  const restricted = restrictedLabelsFrom(process.env);
  const others = (labels ?? []).filter((label) => !restricted.includes(label));
  if (others.length > 0) {
    console.error(`note: ${others.join(', ')} not in RESTRICTED_LABELS (${restricted.join(',')}): resources labelled so are not restricted, whoever asks`);
  }
}

/** `  labels=R,PSY  roles=PRCP` for the list. */
function grantsText(grants: Record<string, string[] | boolean | undefined>): string {
  return Object.entries(grants)
    .filter(([, value]) => value !== undefined && value !== false)
    .map(([name, value]) => (value === true ? `  ${name}` : `  ${name}=${(value as string[]).join(',')}`))
    .join('');
}

async function main(): Promise<void> {
  const [command, ...rest] = process.argv.slice(2);
  const settings = authServerFrom({ ...process.env, AUTH_SERVER: 'on' }, process.env.BASE_URL || 'http://localhost:8080/fhir')!;
  const users = new UserDirectory(settings.usersFile);
  const clients = new ClientRegistry(settings.clientsFile);
  if (command === 'add-user') {
    const { values } = parseArgs({
      args: rest,
      options: {
        username: { type: 'string' },
        'fhir-user': { type: 'string' },
        labels: { type: 'string' },
        roles: { type: 'string' },
        'break-glass': { type: 'boolean' },
        replace: { type: 'boolean' },
      },
    });
    if (!values.username) throw new Error('add-user needs --username');
    const grants = { securityLabels: codesOption(values.labels, '--labels'), roles: codesOption(values.roles, '--roles'), breakGlass: values['break-glass'] };
    const user = await users.add({ username: values.username, password: await password(), fhirUser: values['fhir-user'], ...grants }, values.replace);
    noteUnrestricted(user.securityLabels);
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
        'secret-generate': { type: 'boolean' },
        secret: { type: 'boolean' },
        labels: { type: 'string' },
        roles: { type: 'string' },
        'purpose-of-use': { type: 'string' },
        replace: { type: 'boolean' },
      },
    });
    if (values['secret-generate'] && values.secret) throw new Error('give --secret-generate or --secret, not both');
    const jwks = values['jwks-file'] ? JSON.parse(await readFile(values['jwks-file'], 'utf8')) : undefined;
    const secret = values['secret-generate'] ? generateClientSecret() : values.secret ? await password('Client secret') : undefined;
    const client = await clients.add(
      {
        client_id: values.id,
        client_name: values.name,
        scope: values.scope,
        redirect_uris: values['redirect-uri'],
        jwks,
        jwks_uri: values['jwks-uri'],
        client_secret: secret,
        security_labels: codesOption(values.labels, '--labels'),
        roles: codesOption(values.roles, '--roles'),
        purpose_of_use: codesOption(values['purpose-of-use'], '--purpose-of-use'),
      },
      values.replace,
    );
    noteUnrestricted(client.security_labels);
    console.log(`client ${client.client_id} saved in ${settings.clientsFile}`);
    if (values['secret-generate']) {
      console.log(`client secret (shown this once; only its digest is stored): ${secret}`);
    }
  } else if (command === 'list') {
    for (const user of await users.list()) {
      const grants = grantsText({ labels: user.securityLabels, roles: user.roles, 'break-glass': user.breakGlass });
      console.log(`user   ${user.username}  id=${user.id}${user.fhirUser ? `  fhirUser=${user.fhirUser}` : ''}${grants}`);
    }
    for (const client of await clients.list()) {
      const grants = grantsText({ labels: client.security_labels, roles: client.roles, purpose_of_use: client.purpose_of_use });
      console.log(`client ${client.client_id}  auth=${authMethodOf(client)}  scope="${client.scope}"${client.redirect_uris ? `  redirect_uris=${client.redirect_uris.join(',')}` : ''}${grants}`);
    }
  } else {
    throw new Error('usage: npm run auth -- add-user | add-client | list (see scripts/auth.ts)');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
