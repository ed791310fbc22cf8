import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { decodeJwt } from 'jose';
import { ClientRegistry, generateClientSecret, UserDirectory } from '../../src/auth/index.js';
import { APP_REDIRECT, basicAuth, CookieBrowser, formAction, pkce, postForm, signInAndAllow, startAuthServer } from '../helpers/auth.js';

const server = await startAuthServer(t);
const SAMPLE = JSON.parse(readFileSync('fixtures/sample/01-cardiology-ward.transaction.json', 'utf8'));
const PSY_DOC = 'DocumentReference/doc-a-2024-000388';
// Its patient's Consent withholds PSY documents from everyone but for treatment (purpose of use TREAT).
const ALL_DOCS = 'DocumentReference?_count=100';

/** A backend service with a secret and system/*.cruds, plus grants; its client_credentials token. */
async function serviceToken(clientId: string, grants: { security_labels?: string[]; purpose_of_use?: string[] }): Promise<string> {
  const secret = generateClientSecret();
  await server.clients.add({ client_id: clientId, client_secret: secret, scope: 'system/*.cruds', ...grants });
  const response = await postForm(server.tokenUrl, { grant_type: 'client_credentials', scope: 'system/*.cruds' }, basicAuth(clientId, secret));
  if (response.status !== 200) throw new Error(`token for ${clientId}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

const fhir = (token: string, path: string, init: RequestInit = {}) =>
  fetch(`${server.fhirBase}/${path}`, { ...init, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/fhir+json', ...init.headers } });
const ids = async (response: Response) => ((await response.json()).entry ?? []).map((e: { resource: { id: string } }) => e.resource.id);

const loader = await serviceToken('loader', { security_labels: ['PSY'] });
const treating = await serviceToken('treating', { purpose_of_use: ['TREAT'] });
const treatingPsy = await serviceToken('treating-psy', { security_labels: ['PSY'], purpose_of_use: ['TREAT'] });

t.test('a client granted PSY loads the sample transaction with its PSY-labelled document; one without gets 403', async (t) => {
  t.same(decodeJwt(loader).security_labels, ['PSY'], 'the client\'s labels are in its token');
  t.same(decodeJwt(treating).purpose_of_use, ['TREAT'], 'and its purpose of use');
  t.notOk('security_labels' in decodeJwt(treating), 'no labels claim for a client granted none');

  const refused = await fhir(treating, '', { method: 'POST', body: JSON.stringify(SAMPLE) });
  t.equal(refused.status, 403, 'the transaction writes a PSY-labelled document');
  t.match((await refused.json()).issue[0].diagnostics, /security labels/);
  t.equal((await fhir(loader, 'Patient?identifier=http://riverside-general.example.org/fhir/mrn|101305')).status, 200);
  t.same(await ids(await fhir(loader, 'Patient?identifier=http://riverside-general.example.org/fhir/mrn|101305')), [], 'and nothing of it was stored');

  const loaded = await fhir(loader, '', { method: 'POST', body: JSON.stringify(SAMPLE) });
  t.equal(loaded.status, 200);
  t.ok((await loaded.json()).entry.every((e: { response: { status: string } }) => /^20[01]/.test(e.response.status)));
});

t.test('reading it needs the label (and, by the patient\'s Consent, purpose of use TREAT)', async (t) => {
  t.equal((await fhir(treatingPsy, PSY_DOC)).status, 200, 'PSY and TREAT');
  t.ok((await ids(await fhir(treatingPsy, ALL_DOCS))).includes('doc-a-2024-000388'), 'found by a search');

  t.equal((await fhir(treating, PSY_DOC)).status, 404, 'TREAT without PSY: not there');
  const search = await ids(await fhir(treating, ALL_DOCS));
  t.ok(search.length > 0, 'the other documents are found');
  t.notOk(search.includes('doc-a-2024-000388'), 'but not the PSY one');

  t.equal((await fhir(loader, PSY_DOC)).status, 404, 'PSY without TREAT: her Consent withholds it');
});

t.test('a write of the PSY document by a client without the label is refused', async (t) => {
  const document = SAMPLE.entry.find((e: { resource: { id?: string } }) => e.resource.id === 'doc-a-2024-000388').resource;
  const body = JSON.stringify({ ...document, subject: { reference: 'Patient/someone' }, id: 'psy-copy' });
  t.equal((await fhir(treating, 'DocumentReference/psy-copy', { method: 'PUT', body })).status, 403);
  t.equal((await fhir(treatingPsy, 'DocumentReference/psy-copy', { method: 'PUT', body })).status, 201);
});

const CLINICIAN_SCOPES = 'openid fhirUser user/*.rs';
await server.clients.add({ client_id: 'clinician-app', redirect_uris: [APP_REDIRECT], scope: CLINICIAN_SCOPES, purpose_of_use: ['TREAT'] });
await server.clients.add({ client_id: 'emergency-app', redirect_uris: [APP_REDIRECT], scope: CLINICIAN_SCOPES, purpose_of_use: ['BTG'] });

function authorizeUrl(clientId: string, challenge: string): string {
  const params = { response_type: 'code', client_id: clientId, redirect_uri: APP_REDIRECT, scope: CLINICIAN_SCOPES, state: 's', aud: server.fhirBase, code_challenge: challenge, code_challenge_method: 'S256' };
  return `${server.authorizeUrl}?${new URLSearchParams(params)}`;
}

const redeem = async (clientId: string, code: string, verifier: string) =>
  postForm(server.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: clientId, code_verifier: verifier });

/** Signs `username` in to `clientId` and allows: the code flow's access token. */
async function userToken(clientId: string, username: string, password: string): Promise<string> {
  const { verifier, challenge } = pkce();
  const back = await signInAndAllow(server, authorizeUrl(clientId, challenge), username, password);
  const response = await redeem(clientId, back.searchParams.get('code')!, verifier);
  if (response.status !== 200) throw new Error(`token for ${username}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

t.test('a user\'s labels and roles go into the code-flow token, with the app\'s purpose of use', async (t) => {
  await server.users.add({ username: 'dr-lee', password: 'dr lee password', fhirUser: 'Practitioner/lee', securityLabels: ['PSY', 'R'], roles: ['PRCP'] });
  await server.users.add({ username: 'dr-kim', password: 'dr kim password', fhirUser: 'Practitioner/kim' });
  const lee = await userToken('clinician-app', 'dr-lee', 'dr lee password');
  const claims = decodeJwt(lee);
  t.same(claims.security_labels, ['PSY', 'R']);
  t.same(claims.roles, ['PRCP']);
  t.same(claims.purpose_of_use, ['TREAT']);
  t.equal((await fhir(lee, PSY_DOC)).status, 200, 'she reads the PSY document');

  const kim = await userToken('clinician-app', 'dr-kim', 'dr kim password');
  t.notOk('security_labels' in decodeJwt(kim));
  t.equal((await fhir(kim, PSY_DOC)).status, 404, 'a user without the label does not');
});

t.test('break-the-glass: an app registered for purpose of use BTG, for users allowed to break the glass', async (t) => {
  await server.users.add({ username: 'dr-er', password: 'dr er password', fhirUser: 'Practitioner/er', breakGlass: true });
  const browser = new CookieBrowser();
  const { verifier, challenge } = pkce();
  const absolute = (location: string | null) => new URL(location!, server.origin).href;
  const signIn = await browser.follow(authorizeUrl('emergency-app', challenge), server.origin, APP_REDIRECT);
  const login = await browser.postForm(absolute(formAction(await signIn.response!.text(), '/login')), { username: 'dr-er', password: 'dr er password' });
  const consent = await browser.follow(absolute(login.headers.get('location')), server.origin, APP_REDIRECT);
  const consentHtml = await consent.response!.text();
  t.match(consentHtml, /Break-the-glass access/, 'the consent page says what it is');
  const allow = await browser.postForm(absolute(formAction(consentHtml, '/confirm')), {});
  const back = new URL((await browser.follow(absolute(allow.headers.get('location')), server.origin, APP_REDIRECT)).url);
  const token = (await (await redeem('emergency-app', back.searchParams.get('code')!, verifier)).json()).access_token;
  t.same(decodeJwt(token).purpose_of_use, ['BTG']);
  t.notOk('security_labels' in decodeJwt(token), 'no label granted');
  t.equal((await fhir(token, PSY_DOC)).status, 200, 'the glass is broken: label and Consent set aside');

  const refused = await signInAndAllow(server, authorizeUrl('emergency-app', pkce().challenge), 'dr-lee', 'dr lee password');
  t.equal(refused.searchParams.get('error'), 'access_denied', 'a user not allowed to break the glass is refused');

  const later = pkce();
  const code = (await signInAndAllow(server, authorizeUrl('emergency-app', later.challenge), 'dr-er', 'dr er password')).searchParams.get('code')!;
  await server.users.add({ username: 'dr-er', password: 'dr er password', fhirUser: 'Practitioner/er' }, true);
  const withdrawn = await (await redeem('emergency-app', code, later.verifier)).json();
  t.notOk('purpose_of_use' in decodeJwt(withdrawn.access_token), 'the permission taken away in between: the token does not break the glass');
});

t.test('grants are checked: codes only, labels and roles of a client only for client_credentials, BTG only for user apps', async (t) => {
  await t.rejects(server.clients.add({ client_id: 'junk', client_secret: generateClientSecret(), scope: 'system/*.rs', security_labels: ['PSY', 'R; drop'] }), /"R; drop" is not a code/);
  await t.rejects(server.users.add({ username: 'junk', password: 'junk password', roles: [''] }), /roles: "" is not a code/);
  await t.rejects(server.clients.add({ client_id: 'app-labels', redirect_uris: [APP_REDIRECT], scope: 'user/*.rs', security_labels: ['PSY'] }), /client_credentials tokens only/);
  await t.rejects(server.clients.add({ client_id: 'btg-service', client_secret: generateClientSecret(), scope: 'system/*.rs', purpose_of_use: ['BTG'] }), /needs redirect_uris and user\/ scopes/);
  await t.rejects(server.users.add({ username: 'patient-btg', password: 'patient password', fhirUser: 'Patient/p', breakGlass: true }), /only a practitioner may break the glass/);

  const file = join(server.dir, 'hand-written-users.json');
  writeFileSync(file, JSON.stringify({ users: [{ id: 'u1', username: 'x', passwordHash: '$argon2id$v=19$x', securityLabels: 'PSY' }] }));
  await t.rejects(new UserDirectory(file).list(), /securityLabels must be a list of codes/);
  const clientsFile = join(server.dir, 'hand-written-clients.json');
  writeFileSync(clientsFile, JSON.stringify({ clients: [{ client_id: 'c', redirect_uris: [APP_REDIRECT], scope: 'user/*.rs', purpose_of_use: ['TREAT', 'TRE AT'] }] }));
  await t.rejects(new ClientRegistry(clientsFile).list(), /"TRE AT" is not a code/);
});

t.test('npm run auth stores the grants, lists them, and refuses junk', async (t) => {
  const cliServer = await startAuthServer(t);
  const env = { ...process.env, AUTH_SERVER_DIR: cliServer.dir };
  const cli = (args: string[], input = '') => {
    const child = promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/auth.ts', ...args], { env });
    child.child.stdin!.end(input);
    return child;
  };
  await cli(['add-user', '--username', 'dr-lee', '--fhir-user', 'Practitioner/lee', '--labels', 'R, PSY', '--roles', 'PRCP', '--break-glass'], 'dr lee password\n');
  const added = await cli(['add-client', '--id', 'loader', '--secret-generate', '--scope', 'system/*.cruds', '--labels', 'PSY,psy', '--purpose-of-use', 'TREAT']);
  t.match(added.stderr, /note: psy not in RESTRICTED_LABELS/, 'a label the server does not restrict is pointed out');
  const user = JSON.parse(readFileSync(join(cliServer.dir, 'users.json'), 'utf8')).users[0];
  t.same([user.securityLabels, user.roles, user.breakGlass], [['R', 'PSY'], ['PRCP'], true]);
  const client = JSON.parse(readFileSync(join(cliServer.dir, 'clients.json'), 'utf8')).clients[0];
  t.same([client.security_labels, client.purpose_of_use], [['PSY', 'psy'], ['TREAT']]);

  const secret = /client secret .*: (\S+)$/m.exec(added.stdout)![1];
  const token = await postForm(cliServer.tokenUrl, { grant_type: 'client_credentials', scope: 'system/*.rs' }, basicAuth('loader', secret));
  t.same(decodeJwt((await token.json()).access_token).security_labels, ['PSY', 'psy'], 'the running server puts them in the token');

  const listed = (await cli(['list'])).stdout;
  t.match(listed, /user\s+dr-lee .*fhirUser=Practitioner\/lee\s+labels=R,PSY\s+roles=PRCP\s+break-glass/);
  t.match(listed, /client loader .*labels=PSY,psy\s+purpose_of_use=TREAT/);

  await t.rejects(cli(['add-client', '--id', 'bad', '--secret-generate', '--scope', 'system/*.rs', '--labels', 'PSY;R']), /"PSY;R" is not a code/);
  await t.rejects(cli(['add-client', '--id', 'bad', '--secret-generate', '--scope', 'system/*.rs', '--labels', ' , ']), /--labels needs codes/);
  await t.rejects(cli(['add-user', '--username', 'x', '--roles', 'a|b'], 'a password\n'), /"a\|b" is not a code/);
});
