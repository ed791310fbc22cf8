import t from 'tap';
import { decodeJwt } from 'jose';
import { APP_REDIRECT, CookieBrowser, backendKeys, clientCredentials, formAction, pkce, postForm, startAuthServer } from '../helpers/auth.js';

const server = await startAuthServer(t);
const APP_SCOPES = 'launch/patient openid fhirUser offline_access patient/*.rs';
await server.clients.add({ client_id: 'patient-app', client_name: 'My <b>Health</b> App', redirect_uris: [APP_REDIRECT], scope: APP_SCOPES });
await server.users.add({ username: 'alice', password: 'correct horse battery', fhirUser: 'Patient/alice' });

// Two patients, written by a backend service.
const seeder = await backendKeys();
await server.clients.add({ client_id: 'seeder', jwks: seeder.jwks, scope: 'system/*.cruds' });
const seedToken = (await (await clientCredentials(server, 'seeder', seeder, 'system/*.cruds')).json()).access_token;
for (const id of ['alice', 'bob']) {
  const response = await fetch(`${server.fhirBase}/Patient/${id}`, {
    method: 'PUT',
    headers: { authorization: `Bearer ${seedToken}`, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', id, name: [{ family: id }] }),
  });
  if (response.status !== 201) throw new Error(`seeding Patient/${id}: ${response.status}`);
}

function authorizeUrl(scope: string, challenge: string, clientId = 'patient-app'): string {
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: clientId,
    redirect_uri: APP_REDIRECT,
    scope,
    state: 'state-123',
    aud: server.fhirBase,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  return `${server.authorizeUrl}?${params}`;
}

/** Authorize, sign in, allow: the code of the redirect to the app (and the pages seen). */
async function signInAndAllow(browser: CookieBrowser, scope: string, challenge: string, password = 'correct horse battery') {
  const signIn = await browser.follow(authorizeUrl(scope, challenge), server.origin, APP_REDIRECT);
  const signInHtml = await signIn.response!.text();
  const login = await browser.postForm(new URL(formAction(signInHtml, '/login'), server.origin).href, { username: 'alice', password });
  if (login.status !== 303) return { signInHtml, login };
  const consent = await browser.follow(new URL(login.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT);
  const consentHtml = await consent.response!.text();
  const allow = await browser.postForm(new URL(formAction(consentHtml, '/confirm'), server.origin).href, {});
  const done = await browser.follow(new URL(allow.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT);
  return { signInHtml, consentHtml, login, redirect: new URL(done.url) };
}

async function exchange(code: string, verifier: string): Promise<Response> {
  return postForm(server.tokenUrl, { grant_type: 'authorization_code', code, redirect_uri: APP_REDIRECT, client_id: 'patient-app', code_verifier: verifier });
}

t.test('authorization code + PKCE: sign in, consent, code, token; the token reads the patient\'s own record only', async (t) => {
  const browser = new CookieBrowser();
  const { verifier, challenge } = pkce();
  const flow = await signInAndAllow(browser, APP_SCOPES, challenge);
  t.match(flow.signInHtml, /name="password"/, 'a sign-in form');
  t.match(flow.signInHtml, /My &lt;b&gt;Health&lt;\/b&gt; App/, 'the client name, escaped');
  t.notMatch(flow.signInHtml, /<b>Health/);
  t.match(flow.consentHtml!, /patient\/\*\.rs/, 'the consent page lists the scopes');
  t.match(flow.consentHtml!, /launch\/patient/);
  t.equal(flow.redirect!.searchParams.get('state'), 'state-123');
  const code = flow.redirect!.searchParams.get('code')!;
  t.ok(code, 'the redirect to the app carries a code');

  const response = await exchange(code, verifier);
  t.equal(response.status, 200);
  const body = await response.json();
  t.equal(body.patient, 'alice', 'the token response names the launch patient');
  t.ok(body.refresh_token, 'offline_access gives a refresh token');
  t.ok(body.id_token, 'openid gives an id_token');
  t.equal(decodeJwt(body.id_token).fhirUser, `${server.fhirBase}/Patient/alice`, 'the id_token carries fhirUser');
  t.same(new Set(body.scope.split(' ')), new Set(APP_SCOPES.split(' ')));
  const claims = decodeJwt(body.access_token);
  t.equal(claims.patient, 'alice');
  t.equal(claims.fhirUser, `${server.fhirBase}/Patient/alice`);
  t.equal(claims.aud, server.fhirBase);
  t.equal(claims.client_id, 'patient-app');

  const auth = { authorization: `Bearer ${body.access_token}` };
  t.equal((await fetch(`${server.fhirBase}/Patient/alice`, { headers: auth })).status, 200, 'her own Patient');
  t.equal((await fetch(`${server.fhirBase}/Patient/bob`, { headers: auth })).status, 404, 'another patient is not there for her');
  const search = await (await fetch(`${server.fhirBase}/Patient`, { headers: auth })).json();
  t.same(search.entry.map((e: { resource: { id: string } }) => e.resource.id), ['alice'], 'a search finds only her');
  const create = await fetch(`${server.fhirBase}/Patient`, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient' }),
  });
  t.equal(create.status, 403, 'rs scopes do not write');

  t.test('the refresh token gives a new access token, with the patient again', async (t) => {
    const refreshed = await postForm(server.tokenUrl, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: 'patient-app' });
    t.equal(refreshed.status, 200);
    const next = await refreshed.json();
    t.not(next.access_token, body.access_token);
    t.equal(next.patient, 'alice');
    t.equal(decodeJwt(next.access_token).patient, 'alice');
    t.equal((await fetch(`${server.fhirBase}/Patient/alice`, { headers: { authorization: `Bearer ${next.access_token}` } })).status, 200);
    body.refresh_token = next.refresh_token;
  });

  t.test('the code cannot be used twice, and its second use revokes the grant\'s refresh token', async (t) => {
    const again = await exchange(code, verifier);
    t.equal(again.status, 400);
    t.equal((await again.json()).error, 'invalid_grant');
    const refreshed = await postForm(server.tokenUrl, { grant_type: 'refresh_token', refresh_token: body.refresh_token, client_id: 'patient-app' });
    t.equal(refreshed.status, 400);
  });
});

t.test('a wrong password is refused on the sign-in page and gives no code', async (t) => {
  const browser = new CookieBrowser();
  const flow = await signInAndAllow(browser, APP_SCOPES, pkce().challenge, 'wrong password');
  t.equal(flow.login.status, 401);
  const html = await flow.login.text();
  t.match(html, /Wrong username or password/);
  t.match(html, /name="password"/, 'the form again');
  t.notMatch(html, /wrong password/, 'the password is not echoed');
});

t.test('five failed sign-ins lock the username for a while, even with the right password next, and only that username', async (t) => {
  await server.users.add({ username: 'carol', password: 'carols right password', fhirUser: 'Patient/bob' });
  const browser = new CookieBrowser();
  const signIn = await browser.follow(authorizeUrl(APP_SCOPES, pkce().challenge), server.origin, APP_REDIRECT);
  const loginUrl = new URL(formAction(await signIn.response!.text(), '/login'), server.origin).href;
  for (let i = 1; i <= 5; i++) {
    t.equal((await browser.postForm(loginUrl, { username: 'carol', password: `guess ${i}` })).status, 401, `guess ${i}`);
  }
  const locked = await browser.postForm(loginUrl, { username: 'Carol', password: 'carols right password' });
  t.equal(locked.status, 429, 'locked, whatever the case of the username');
  t.equal(locked.headers.get('retry-after'), '900');
  t.match(await locked.text(), /Too many failed sign-ins with this username: try again in 15 minutes/);
  const other = await signInAndAllow(new CookieBrowser(), APP_SCOPES, pkce().challenge);
  t.ok(other.redirect?.searchParams.get('code'), 'another username signs in as before');

  // Every sign-in, refused or not, is in the audit trail (DICOM User Authentication / Login).
  const trail = await fetch(`${server.fhirBase}/AuditEvent?type=http://dicom.nema.org/resources/ontology/DCM|110114&_count=100`, { headers: { authorization: `Bearer ${seedToken}` } });
  t.equal(trail.status, 200);
  const events = ((await trail.json()).entry ?? []).map((e: { resource: any }) => e.resource);
  const of = (username: string) => events.filter((e: any) => e.agent[0].who.identifier.value.toLowerCase() === username);
  t.same(of('carol').map((e: any) => e.outcome).sort(), ['4', '4', '4', '4', '4', '4'], 'five wrong passwords and the locked attempt');
  const alice = of('alice').find((e: any) => e.outcome === '0');
  t.ok(alice, 'a successful sign-in');
  t.equal(alice.agent[0].who.reference, 'Patient/alice');
  t.equal(alice.subtype[0].code, '110122');
  t.equal(alice.agent[1].who.identifier.value, 'patient-app', 'the application signed in to');
  t.notOk(JSON.stringify(events).includes('guess'), 'no password in the trail');
});

t.test('a code exchange with the wrong PKCE verifier is refused', async (t) => {
  const flow = await signInAndAllow(new CookieBrowser(), APP_SCOPES, pkce().challenge);
  const response = await exchange(flow.redirect!.searchParams.get('code')!, pkce().verifier);
  t.equal(response.status, 400);
  t.equal((await response.json()).error, 'invalid_grant');
});

t.test('an authorization request without PKCE is refused', async (t) => {
  const url = new URL(authorizeUrl(APP_SCOPES, 'x'));
  url.searchParams.delete('code_challenge');
  url.searchParams.delete('code_challenge_method');
  const response = await fetch(url, { redirect: 'manual' });
  const location = new URL(response.headers.get('location')!);
  t.ok(location.href.startsWith(APP_REDIRECT));
  t.equal(location.searchParams.get('error'), 'invalid_request');
});

t.test('a scope the app is not registered for is refused at the authorization endpoint', async (t) => {
  for (const scope of ['launch/patient patient/*.cruds', 'launch/patient user/*.rs', 'system/*.rs']) {
    const response = await fetch(authorizeUrl(scope, pkce().challenge), { redirect: 'manual' });
    const location = new URL(response.headers.get('location')!);
    t.equal(location.searchParams.get('error'), 'invalid_scope', scope);
  }
});

t.test('aud other than this FHIR server is refused', async (t) => {
  const url = new URL(authorizeUrl(APP_SCOPES, pkce().challenge));
  url.searchParams.set('aud', 'https://other.example/fhir');
  const location = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!);
  t.equal(location.searchParams.get('error'), 'invalid_request');
});

t.test('denying at the consent page sends access_denied to the app', async (t) => {
  const browser = new CookieBrowser();
  const signIn = await browser.follow(authorizeUrl(APP_SCOPES, pkce().challenge), server.origin, APP_REDIRECT);
  const login = await browser.postForm(new URL(formAction(await signIn.response!.text(), '/login'), server.origin).href, { username: 'alice', password: 'correct horse battery' });
  const consent = await browser.follow(new URL(login.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT);
  const deny = await browser.postForm(new URL(formAction(await consent.response!.text(), '/abort'), server.origin).href, {});
  const done = await browser.follow(new URL(deny.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT);
  t.equal(new URL(done.url).searchParams.get('error'), 'access_denied');
});

t.test('a sign-in form posted without the browser\'s interaction cookie is refused', async (t) => {
  const signIn = await new CookieBrowser().follow(authorizeUrl(APP_SCOPES, pkce().challenge), server.origin, APP_REDIRECT);
  const action = formAction(await signIn.response!.text(), '/login');
  const response = await new CookieBrowser().postForm(new URL(action, server.origin).href, { username: 'alice', password: 'correct horse battery' });
  t.equal(response.status, 400);
  t.match(response.headers.get('content-type'), /text\/html/);
});

t.test('a practitioner signs in with user/ scopes: the token carries fhirUser and reads across patients', async (t) => {
  await server.clients.add({ client_id: 'clinician-app', redirect_uris: [APP_REDIRECT], scope: 'openid fhirUser user/*.rs launch/patient patient/*.rs' });
  await server.users.add({ username: 'dr-who', password: 'practitioner password', fhirUser: 'Practitioner/p1' });
  const run = async (scope: string) => {
    const browser = new CookieBrowser();
    const { verifier, challenge } = pkce();
    const signIn = await browser.follow(authorizeUrl(scope, challenge, 'clinician-app'), server.origin, APP_REDIRECT);
    const login = await browser.postForm(new URL(formAction(await signIn.response!.text(), '/login'), server.origin).href, { username: 'dr-who', password: 'practitioner password' });
    const consent = await browser.follow(new URL(login.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT);
    const allow = await browser.postForm(new URL(formAction(await consent.response!.text(), '/confirm'), server.origin).href, {});
    const done = new URL((await browser.follow(new URL(allow.headers.get('location')!, server.origin).href, server.origin, APP_REDIRECT)).url);
    return { done, verifier };
  };

  const { done, verifier } = await run('openid fhirUser user/Patient.rs');
  const response = await postForm(server.tokenUrl, { grant_type: 'authorization_code', code: done.searchParams.get('code')!, redirect_uri: APP_REDIRECT, client_id: 'clinician-app', code_verifier: verifier });
  const body = await response.json();
  t.notOk('patient' in body, 'no launch patient without launch/patient');
  const claims = decodeJwt(body.access_token);
  t.equal(claims.fhirUser, `${server.fhirBase}/Practitioner/p1`);
  t.equal(claims.scope, 'openid fhirUser user/Patient.rs');
  const auth = { authorization: `Bearer ${body.access_token}` };
  t.equal((await fetch(`${server.fhirBase}/Patient/bob`, { headers: auth })).status, 200);
  const update = await fetch(`${server.fhirBase}/Patient/bob`, {
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', id: 'bob' }),
  });
  t.equal(update.status, 403, 'only what its scopes allow');

  const refused = await run('launch/patient patient/*.rs');
  t.equal(refused.done.searchParams.get('error'), 'access_denied', 'launch/patient for a user linked to no Patient');
});
