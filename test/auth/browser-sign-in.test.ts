import { existsSync } from 'node:fs';
import t from 'tap';
import { chromium } from 'playwright-core';
import { createServer } from 'node:http';
import { freePort } from '../../src/db/embedded.js';
import { pkce, postForm, startAuthServer } from '../helpers/auth.js';

/** Debian's chromium (apt-get install -y chromium): .ci/run installs it; playwright-core downloads no browser. */
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const missing = !existsSync(CHROMIUM);
if (missing && process.env.CI === 'true') throw new Error(`${CHROMIUM} is missing: .ci/run installs it (apt-get install -y chromium)`);

t.test('in a real browser: the authorize URL, the sign-in form, consent, and a redirect with a code that exchanges for a token', {
  skip: missing ? `${CHROMIUM} is not installed (apt-get install -y chromium); this test needs a real browser` : false,
}, async (t) => {
  const server = await startAuthServer(t);
  // The app's callback, a real page on loopback, where the browser lands with the code.
  const appPort = await freePort();
  const APP_REDIRECT = `http://127.0.0.1:${appPort}/callback`;
  const app = createServer((_request, response) => response.writeHead(200, { 'content-type': 'text/plain' }).end('app callback'));
  await new Promise<void>((resolve) => app.listen(appPort, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => app.close(resolve)));
  await server.clients.add({ client_id: 'browser-app', client_name: 'Browser app', redirect_uris: [APP_REDIRECT], scope: 'launch/patient openid fhirUser patient/*.rs' });
  await server.users.add({ username: 'carol', password: 'a long browser password', fhirUser: 'Patient/carol' });

  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  t.teardown(() => browser.close());
  const page = await browser.newPage();

  const { verifier, challenge } = pkce();
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: 'browser-app',
    redirect_uri: APP_REDIRECT,
    scope: 'launch/patient openid fhirUser patient/*.rs',
    state: 'browser-state',
    aud: server.fhirBase,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  });
  await page.goto(`${server.authorizeUrl}?${params}`);
  t.equal(await page.title(), 'Sign in');
  t.match(await page.textContent('body'), /Browser app/);
  await page.fill('#username', 'carol');
  await page.fill('#password', 'a long browser password');
  await page.click('button[type=submit]');
  await page.waitForSelector('#allow');
  t.equal(await page.title(), 'Allow access?');
  t.match(await page.textContent('body'), /patient\/\*\.rs/);
  await Promise.all([page.waitForURL(`${APP_REDIRECT}**`), page.click('#allow')]);
  t.equal(await page.textContent('body'), 'app callback');
  const redirect = new URL(page.url());
  t.equal(redirect.searchParams.get('state'), 'browser-state');
  const code = redirect.searchParams.get('code');
  t.ok(code, 'the redirect carries a code');

  const token = await postForm(server.tokenUrl, { grant_type: 'authorization_code', code: code!, redirect_uri: APP_REDIRECT, client_id: 'browser-app', code_verifier: verifier });
  t.equal(token.status, 200);
  const body = await token.json();
  t.equal(body.patient, 'carol');
  t.equal(body.token_type, 'Bearer');
});
