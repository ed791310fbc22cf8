import t from 'tap';
import { loadConfig } from '../../src/config.js';

t.test('validation settings are read from the environment', async (t) => {
  const config = loadConfig({
    REQUIRED_PROFILES: 'Patient=http://a.example/p1, Patient=http://a.example/p2,DocumentReference=http://a.example/d',
    REQUIRE_KNOWN_PROFILES: 'true',
    PROFILES_DIR: '/srv/profiles',
  });
  t.same(config.validation, {
    profilesDir: '/srv/profiles',
    requireKnownProfiles: true,
    requiredProfiles: { Patient: ['http://a.example/p1', 'http://a.example/p2'], DocumentReference: ['http://a.example/d'] },
  });
  t.equal(loadConfig({}).validation.requireKnownProfiles, false);
  t.match(loadConfig({}).validation.profilesDir, /profiles$/);
});

t.test('malformed validation settings stop start-up with a clear message', async (t) => {
  t.throws(() => loadConfig({ REQUIRED_PROFILES: 'us-core-patient' }), /REQUIRED_PROFILES entries must look like Patient=/);
  t.throws(() => loadConfig({ REQUIRE_KNOWN_PROFILES: 'yes' }), /REQUIRE_KNOWN_PROFILES must be true or false/);
});
