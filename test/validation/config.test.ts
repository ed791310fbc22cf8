import t from 'tap';
import { loadConfig } from '../../src/config.js';

t.test('validation settings are read from the environment', async (t) => {
  const config = loadConfig({
    REQUIRED_PROFILES: 'Patient=http://a.example/p1, Patient=http://a.example/p2,DocumentReference=http://a.example/d',
    REQUIRE_KNOWN_PROFILES: 'false',
    PROFILES_DIR: '/srv/profiles',
    UNKNOWN_EXTENSIONS: 'reject',
    DISPLAY_MISMATCH: 'error',
  });
  t.same(config.validation, {
    profilesDir: '/srv/profiles',
    requireKnownProfiles: false,
    requiredProfiles: { Patient: ['http://a.example/p1', 'http://a.example/p2'], DocumentReference: ['http://a.example/d'] },
    unknownExtensions: 'reject',
    displayMismatch: 'error',
  });
  t.equal(loadConfig({}).validation.requireKnownProfiles, true, 'an unknown meta.profile is an error by default, as for HL7 and HAPI');
  t.match(loadConfig({}).validation.profilesDir, /profiles$/);
  t.equal(loadConfig({}).validation.unknownExtensions, 'accept', 'unknown extensions are accepted by default, as by HAPI');
  t.equal(loadConfig({}).validation.displayMismatch, 'warning');
});

t.test('malformed validation settings stop start-up with a clear message', async (t) => {
  t.throws(() => loadConfig({ REQUIRED_PROFILES: 'us-core-patient' }), /REQUIRED_PROFILES entries must look like Patient=/);
  t.throws(() => loadConfig({ REQUIRE_KNOWN_PROFILES: 'yes' }), /REQUIRE_KNOWN_PROFILES must be true or false/);
  t.throws(() => loadConfig({ UNKNOWN_EXTENSIONS: 'error' }), /UNKNOWN_EXTENSIONS must be one of accept, warn, reject/);
  t.throws(() => loadConfig({ DISPLAY_MISMATCH: 'warn' }), /DISPLAY_MISMATCH must be one of warning, error/);
});

t.test('DB_QUERY_TIMEOUT_MS sets the time limit of each database query, 10 s by default', async (t) => {
  t.equal(loadConfig({}).dbQueryTimeoutMs, 10_000);
  t.equal(loadConfig({ DB_QUERY_TIMEOUT_MS: '2500' }).dbQueryTimeoutMs, 2500);
  for (const bad of ['0', '-5', '1.5', '10s']) {
    t.throws(() => loadConfig({ DB_QUERY_TIMEOUT_MS: bad }), /DB_QUERY_TIMEOUT_MS must be a whole number of at least 1/, bad);
  }
});
