import t from 'tap';
import { loadConfig } from '../../src/config.js';

const ISSUER = { AUTH_ISSUER: 'https://auth.example', AUTH_JWKS_URL: 'https://auth.example/jwks' };

t.test('without an issuer authorization is off and HOST defaults to 127.0.0.1', async (t) => {
  const config = loadConfig({});
  t.equal(config.auth.issuer, undefined);
  t.equal(config.host, '127.0.0.1');
});

t.test('with an issuer HOST defaults to 0.0.0.0', async (t) => {
  t.equal(loadConfig(ISSUER).host, '0.0.0.0');
});

t.test('a non-loopback HOST without an issuer is refused, naming AUTH_ISSUER and AUTH_DISABLED', async (t) => {
  for (const host of ['0.0.0.0', '::', '10.1.2.3', 'fhir.example.org']) {
    t.throws(() => loadConfig({ HOST: host }), /AUTH_ISSUER.*AUTH_DISABLED=true/s, host);
  }
});

t.test('loopback HOSTs are allowed without an issuer', async (t) => {
  for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '::1', '[::1]']) t.equal(loadConfig({ HOST: host }).host, host);
});

t.test('a non-loopback HOST without an issuer is allowed with AUTH_DISABLED=true', async (t) => {
  const config = loadConfig({ HOST: '0.0.0.0', AUTH_DISABLED: 'true' });
  t.equal(config.host, '0.0.0.0');
  t.equal(config.auth.disabled, true);
});

t.test('AUTH_DISABLED must be true or false and cannot be combined with AUTH_ISSUER', async (t) => {
  t.throws(() => loadConfig({ AUTH_DISABLED: 'yes' }), /AUTH_DISABLED must be true or false/);
  t.throws(() => loadConfig({ ...ISSUER, AUTH_DISABLED: 'true' }), /contradicts AUTH_ISSUER/);
});

t.test('HS256 or none in AUTH_ALGORITHMS is refused at start-up', async (t) => {
  t.throws(() => loadConfig({ ...ISSUER, AUTH_ALGORITHMS: 'RS256,HS256' }), /must not contain HS256/);
  t.throws(() => loadConfig({ ...ISSUER, AUTH_ALGORITHMS: 'none' }), /must not contain "none"/);
  t.throws(() => loadConfig({ ...ISSUER, AUTH_ALGORITHMS: 'RS999' }), /not a supported algorithm/);
});

t.test('the authorization settings are read into config.auth with their defaults', async (t) => {
  const config = loadConfig({ ...ISSUER, BASE_URL: 'https://fhir.example/fhir' });
  t.same(config.auth, {
    issuer: 'https://auth.example',
    audience: ['https://fhir.example/fhir'],
    jwksUrl: 'https://auth.example/jwks',
    jwksFile: undefined,
    algorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512'],
    clockSkewSeconds: 60,
    disabled: false,
    authorizeUrl: undefined,
    tokenUrl: undefined,
    corsOrigins: undefined,
  });
  const custom = loadConfig({
    ...ISSUER,
    AUTH_AUDIENCE: 'https://a.example/fhir, https://b.example/fhir',
    AUTH_ALGORITHMS: 'ES256',
    AUTH_CLOCK_SKEW_SECONDS: '5',
    AUTH_AUTHORIZE_URL: 'https://auth.example/authorize',
    AUTH_TOKEN_URL: 'https://auth.example/token',
    CORS_ORIGINS: 'https://app.example,https://app2.example:8443',
  });
  t.same(custom.auth.audience, ['https://a.example/fhir', 'https://b.example/fhir']);
  t.same(custom.auth.algorithms, ['ES256']);
  t.equal(custom.auth.clockSkewSeconds, 5);
  t.equal(custom.auth.tokenUrl, 'https://auth.example/token');
  t.same(custom.auth.corsOrigins, ['https://app.example', 'https://app2.example:8443']);
  t.equal(loadConfig({ CORS_ORIGINS: '*' }).auth.corsOrigins, '*');
});

t.test('an issuer needs exactly one of AUTH_JWKS_URL and AUTH_JWKS_FILE', async (t) => {
  t.throws(() => loadConfig({ AUTH_ISSUER: 'https://auth.example' }), /set AUTH_JWKS_URL or AUTH_JWKS_FILE/);
  t.throws(() => loadConfig({ ...ISSUER, AUTH_JWKS_FILE: '/etc/jwks.json' }), /only one of AUTH_JWKS_URL and AUTH_JWKS_FILE/);
});

t.test('issuer settings without AUTH_ISSUER are refused rather than silently leaving the server open', async (t) => {
  t.throws(() => loadConfig({ AUTH_JWKS_URL: 'https://auth.example/jwks' }), /AUTH_JWKS_URL set without AUTH_ISSUER/);
});

t.test('malformed authorization settings stop start-up with a clear message', async (t) => {
  t.throws(() => loadConfig({ ...ISSUER, AUTH_JWKS_URL: 'not a url' }), /AUTH_JWKS_URL must be an absolute URL/);
  t.throws(() => loadConfig({ ...ISSUER, AUTH_CLOCK_SKEW_SECONDS: '-1' }), /AUTH_CLOCK_SKEW_SECONDS must be a whole number of at least 0/);
  t.throws(() => loadConfig({ CORS_ORIGINS: 'https://app.example/' }), /CORS_ORIGINS entries must be origins/);
});

t.test('AUDIT_TRAIL=off is only for local development: refused with authorization on or AUTH_DISABLED', async (t) => {
  t.equal(loadConfig({}).auditTrail, true, 'on by default');
  t.equal(loadConfig({ AUDIT_TRAIL: 'off' }).auditTrail, false);
  t.throws(() => loadConfig({ ...ISSUER, AUDIT_TRAIL: 'off' }), /AUDIT_TRAIL=off/);
  t.throws(() => loadConfig({ AUTH_DISABLED: 'true', AUDIT_TRAIL: 'off' }), /AUDIT_TRAIL=off/);
  t.throws(() => loadConfig({ AUDIT_TRAIL: 'no' }), /AUDIT_TRAIL must be on or off/);
});

t.test('CONSENT_DEFAULT is permit or deny, permit by default', async (t) => {
  t.equal(loadConfig({}).consentDefault, 'permit');
  t.equal(loadConfig({ CONSENT_DEFAULT: 'deny' }).consentDefault, 'deny');
  t.throws(() => loadConfig({ CONSENT_DEFAULT: 'maybe' }), /CONSENT_DEFAULT/);
});

t.test('RESTRICTED_LABELS replaces the default list of restricted label codes', async (t) => {
  t.ok(loadConfig({}).restrictedLabels.includes('R'));
  t.same(loadConfig({ RESTRICTED_LABELS: 'V, HIV' }).restrictedLabels, ['V', 'HIV']);
});
